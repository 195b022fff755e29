// Per-thread values whose destructor runs when the thread exits. A pthread key where one is
// left (a process may use all PTHREAD_KEYS_MAX of them); else a thread-local slot and a
// destructor registered with glibc's __cxa_thread_atexit_impl, which takes no key.
#include "CLoopWatchdog.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define LWD_FALLBACK_SLOTS 4

// glibc's registration of a thread-exit destructor (C++ thread_local uses it); absent from
// other C libraries, hence weak.
extern int __cxa_thread_atexit_impl(void (*destructor)(void *), void *object, void *dso_handle)
    __attribute__((weak));
extern void *__dso_handle __attribute__((weak));

static __thread void *fallback_values[LWD_FALLBACK_SLOTS];
static __thread unsigned char fallback_registered[LWD_FALLBACK_SLOTS];
static void (*fallback_destructors[LWD_FALLBACK_SLOTS])(void *);
static int fallback_count;
static pthread_mutex_t fallback_lock = PTHREAD_MUTEX_INITIALIZER;

int lwd_exit_slot_create(lwd_exit_slot *slot, void (*destructor)(void *)) {
    pthread_key_t key;
    int rc = pthread_key_create(&key, destructor);
    if (rc == 0) {
        slot->key = key;
        slot->fallback = -1;
        return LWD_EXIT_SLOT_KEY;
    }
    if (__cxa_thread_atexit_impl == NULL) return -rc;
    pthread_mutex_lock(&fallback_lock);
    int index = fallback_count < LWD_FALLBACK_SLOTS ? fallback_count++ : -1;
    if (index >= 0) fallback_destructors[index] = destructor;
    pthread_mutex_unlock(&fallback_lock);
    if (index < 0) return -rc;
    slot->key = 0;
    slot->fallback = index;
    return LWD_EXIT_SLOT_THREAD_ATEXIT;
}

void *lwd_exit_slot_get(const lwd_exit_slot *slot) {
    if (slot->fallback < 0) return pthread_getspecific(slot->key);
    return fallback_values[slot->fallback];
}

// Runs at the thread's exit for fallback slot `index` (passed as the object).
static void run_fallback_destructor(void *object) {
    int index = (int)(intptr_t)object;
    void *value = fallback_values[index];
    fallback_values[index] = NULL;
    if (value != NULL) fallback_destructors[index](value);
}

int lwd_exit_slot_set(const lwd_exit_slot *slot, void *value) {
    if (slot->fallback < 0) return -pthread_setspecific(slot->key, value);
    int index = slot->fallback;
    if (value != NULL && !fallback_registered[index]) {
        int rc = __cxa_thread_atexit_impl(run_fallback_destructor, (void *)(intptr_t)index, &__dso_handle);
        if (rc != 0) return -ENOMEM;
        fallback_registered[index] = 1;
    }
    fallback_values[index] = value;
    return 0;
}
