// Small-file readers shared by the /proc and cgroup readers of this target.
#ifndef LWD_PROC_READ_H
#define LWD_PROC_READ_H

#include <sys/types.h>

// Reads a small /proc file into `buffer` (NUL-terminated). Returns its length, -ESRCH when
// the file does not exist (its thread is gone), or -errno.
ssize_t lwd_read_small_file(const char *path, char *buffer, size_t capacity);

// Reads a file kept open (see lwd_open_thread_proc_file) from its start into `buffer`
// (NUL-terminated). Returns its length, -ESRCH when it reads empty (its thread is gone), or
// -errno.
ssize_t lwd_read_open_file(int fd, char *buffer, size_t capacity);

#endif
