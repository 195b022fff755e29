// Private to CLoopWatchdog: state that a child created by fork() must reset.
#ifndef CLOOPWATCHDOG_FORK_SAFETY_H
#define CLOOPWATCHDOG_FORK_SAFETY_H

/// Puts the signal-free unwinder's locks back to their initial state. Called only from the
/// pthread_atfork child handler, where the forking thread is the only thread.
void lwd_parked_unwind_reset_after_fork(void);

/// Puts the async chain reader's lock back to its initial state, likewise.
void lwd_async_chain_reset_after_fork(void);

#endif
