// dladdr, which Swift's Glibc module does not export (it needs _GNU_SOURCE).
#include "CLoopWatchdog.h"

#include <dlfcn.h>

int lwd_dladdr(uintptr_t address, const char **symbol, const char **image) {
    Dl_info info;
    if (dladdr((const void *)address, &info) == 0) return 0;
    *symbol = info.dli_sname;
    *image = info.dli_fname;
    return 1;
}
