// dladdr, which Swift's Glibc module does not export (it needs _GNU_SOURCE), and the C++
// runtime's demangler.
#include "CLoopWatchdog.h"

#include <dlfcn.h>

int lwd_dladdr(uintptr_t address, const char **symbol, const char **image) {
    Dl_info info;
    if (dladdr((const void *)address, &info) == 0) return 0;
    *symbol = info.dli_sname;
    *image = info.dli_fname;
    return 1;
}

// Weak: a process without the C++ runtime loaded has no C++ names to demangle.
extern char *__cxa_demangle(const char *name, char *buffer, size_t *length, int *status) __attribute__((weak));

char *lwd_demangle_cxx(const char *name) {
    if (__cxa_demangle == NULL) return NULL;
    int status = 0;
    char *demangled = __cxa_demangle(name, NULL, NULL, &status);
    return status == 0 ? demangled : NULL;
}
