// libdwfl over this process: see CLibdwCandidate.h.
#include "CLibdwCandidate.h"

#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <unistd.h>

struct lwd_bench_dwfl {
    Dwfl *dwfl;
    Dwfl_Callbacks callbacks;
    char *debuginfo_path;
};

lwd_bench_dwfl *lwd_bench_dwfl_open(void) {
    lwd_bench_dwfl *session = calloc(1, sizeof(*session));
    if (session == NULL) return NULL;
    session->callbacks.find_elf = dwfl_linux_proc_find_elf;
    session->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
    session->callbacks.debuginfo_path = &session->debuginfo_path;
    session->dwfl = dwfl_begin(&session->callbacks);
    if (session->dwfl == NULL) {
        free(session);
        return NULL;
    }
    dwfl_report_begin(session->dwfl);
    if (dwfl_linux_proc_report(session->dwfl, getpid()) != 0 || dwfl_report_end(session->dwfl, NULL, NULL) != 0) {
        dwfl_end(session->dwfl);
        free(session);
        return NULL;
    }
    return session;
}

void lwd_bench_dwfl_close(lwd_bench_dwfl *session) {
    if (session == NULL) return;
    dwfl_end(session->dwfl);
    free(session);
}

void lwd_bench_dwfl_lookup(lwd_bench_dwfl *session, uintptr_t address, const char **symbol,
                           const char **file, int *line, const char **module) {
    *symbol = NULL;
    *file = NULL;
    *line = 0;
    *module = NULL;
    Dwfl_Module *found = dwfl_addrmodule(session->dwfl, address);
    if (found == NULL) return;
    *module = dwfl_module_info(found, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    *symbol = dwfl_module_addrname(found, address);
    Dwfl_Line *source = dwfl_module_getsrc(found, address);
    if (source != NULL) *file = dwfl_lineinfo(source, NULL, line, NULL, NULL, NULL);
}
