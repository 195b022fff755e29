// Kernel accounting read over a stall: what the blocked thread did with its time (schedstat,
// io), what its cgroup's CPU quota took (cpu.stat) and how contended the machine's CPUs were
// (/proc/pressure/cpu). Read on the watchdog thread, never from a signal handler.
#include "CLoopWatchdog.h"
#include "proc_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// The value after `key` (a whole word at the start of a line) in `text`, or -1.
static int64_t value_after(const char *text, const char *key) {
    size_t length = strlen(key);
    for (const char *line = text; line != NULL && *line != '\0';) {
        if (strncmp(line, key, length) == 0 && (line[length] == ' ' || line[length] == '=')) {
            return strtoll(line + length + 1, NULL, 10);
        }
        line = strchr(line, '\n');
        if (line != NULL) line++;
    }
    return -1;
}

int lwd_read_thread_accounting(pid_t tid, int schedstat_fd, int io_fd, lwd_thread_accounting *accounting) {
    accounting->on_cpu_ns = -1;
    accounting->waiting_ns = -1;
    accounting->read_bytes = -1;
    accounting->written_bytes = -1;
    char text[512];
    char path[64];
    ssize_t length;
    if (schedstat_fd >= 0) {
        length = lwd_read_open_file(schedstat_fd, text, sizeof text);
    } else {
        snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", (int)tid);
        length = lwd_read_small_file(path, text, sizeof text);
    }
    if (length == -ESRCH) return -ESRCH;
    unsigned long long on_cpu = 0, waiting = 0;
    if (length > 0 && sscanf(text, "%llu %llu", &on_cpu, &waiting) == 2) {
        accounting->on_cpu_ns = (int64_t)on_cpu;
        accounting->waiting_ns = (int64_t)waiting;
    }
    if (io_fd >= 0) {
        length = lwd_read_open_file(io_fd, text, sizeof text);
    } else {
        snprintf(path, sizeof path, "/proc/self/task/%d/io", (int)tid);
        length = lwd_read_small_file(path, text, sizeof text);
    }
    if (length > 0) {
        accounting->read_bytes = value_after(text, "rchar:");
        accounting->written_bytes = value_after(text, "wchar:");
    }
    return 0;
}

// Opens the first of `candidates` (NULL-terminated) that holds `key`.
static int open_holding(const char *const *candidates, const char *key) {
    char text[1024];
    for (int i = 0; candidates[i] != NULL; i++) {
        int fd = open(candidates[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        if (lwd_read_open_file(fd, text, sizeof text) > 0 && value_after(text, key) >= 0) return fd;
        close(fd);
    }
    return -ENOENT;
}

int lwd_open_cgroup_cpu_stat(int *is_v1) {
    char text[2048];
    if (lwd_read_small_file("/proc/self/cgroup", text, sizeof text) <= 0) return -ENOENT;
    char v1[512] = "", v2[512] = "";
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        // "ID:CONTROLLERS:PATH"
        char *first = strchr(line, ':');
        if (first == NULL) continue;
        char *second = strchr(first + 1, ':');
        if (second == NULL) continue;
        *second = '\0';
        const char *controllers = first + 1;
        const char *path = second + 1;
        if (strcmp(path, "/") == 0) path = "";
        if (*controllers == '\0' && strncmp(line, "0:", 2) == 0) {
            snprintf(v2, sizeof v2, "%s", path);
            continue;
        }
        // v1: the cpu controller alone or with cpuacct ("cpu", "cpu,cpuacct", "cpuacct,cpu").
        char list[128];
        snprintf(list, sizeof list, ",%s,", controllers);
        if (strstr(list, ",cpu,") != NULL) snprintf(v1, sizeof v1, "%s", path[0] ? path : "/");
    }
    char a[640], b[640], c[640], d[640];
    if (v1[0] != '\0') {
        const char *path = strcmp(v1, "/") == 0 ? "" : v1;
        snprintf(a, sizeof a, "/sys/fs/cgroup/cpu%s/cpu.stat", path);
        snprintf(b, sizeof b, "/sys/fs/cgroup/cpu,cpuacct%s/cpu.stat", path);
        const char *candidates[] = {a, b, NULL};
        int fd = open_holding(candidates, "throttled_time");
        if (fd >= 0) {
            *is_v1 = 1;
            return fd;
        }
    }
    snprintf(c, sizeof c, "/sys/fs/cgroup%s/cpu.stat", v2);
    snprintf(d, sizeof d, "/sys/fs/cgroup/unified%s/cpu.stat", v2);
    const char *candidates[] = {c, d, NULL};
    int fd = open_holding(candidates, "throttled_usec");
    if (fd >= 0) *is_v1 = 0;
    return fd;
}

int64_t lwd_read_cgroup_throttled_ns(int fd, int is_v1) {
    char text[1024];
    if (lwd_read_open_file(fd, text, sizeof text) <= 0) return -1;
    if (is_v1) return value_after(text, "throttled_time");
    int64_t usec = value_after(text, "throttled_usec");
    return usec < 0 ? -1 : usec * 1000;
}

int lwd_open_cpu_pressure(void) {
    int fd = open("/proc/pressure/cpu", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    // Kernels built with PSI but booted without it fail the read with EOPNOTSUPP.
    if (lwd_read_cpu_pressure_ns(fd) < 0) {
        close(fd);
        return -EOPNOTSUPP;
    }
    return fd;
}

int64_t lwd_read_cpu_pressure_ns(int fd) {
    char text[256];
    if (lwd_read_open_file(fd, text, sizeof text) <= 0) return -1;
    // "some avg10=0.00 avg60=0.00 avg300=0.00 total=MICROSECONDS"
    if (strncmp(text, "some ", 5) != 0) return -1;
    const char *total = strstr(text, "total=");
    const char *newline = strchr(text, '\n');
    if (total == NULL || (newline != NULL && total > newline)) return -1;
    return strtoll(total + 6, NULL, 10) * 1000;
}

int lwd_describe_fd(int fd) {
    struct stat info;
    if (fstat(fd, &info) != 0) return -errno;
    switch (info.st_mode & S_IFMT) {
    case S_IFREG: return LWD_FD_FILE;
    case S_IFBLK: return LWD_FD_FILE;
    case S_IFDIR: return LWD_FD_FILE;
    case S_IFSOCK: return LWD_FD_SOCKET;
    case S_IFIFO: return LWD_FD_PIPE;
    case S_IFCHR: return LWD_FD_DEVICE;
    default: return LWD_FD_OTHER;
    }
}
