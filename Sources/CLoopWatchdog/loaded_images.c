// Which loaded object holds an address: dl_iterate_phdr over the executable and the shared
// libraries, with each one's build ID read from its PT_NOTE segment in memory (the file on
// disk may have been replaced since it was loaded; the symbolicator compares the two).
#include "CLoopWatchdog.h"

#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

typedef struct {
    uintptr_t address;
    int found;
    /// The object's name as the loader has it ("" for the executable), copied under its lock.
    char name[4096];
    int name_fits;
    uintptr_t bias;
    uintptr_t start;
    uintptr_t end;
    uint8_t *build_id;
    size_t build_id_capacity;
    size_t build_id_length;
} lwd_image_query;

/// Copies the GNU build ID from a PT_NOTE segment mapped at `notes`, `size` bytes.
static size_t lwd_note_build_id(const uint8_t *notes, size_t size, uint8_t *out, size_t capacity) {
    size_t offset = 0;
    while (offset + sizeof(Elf64_Nhdr) <= size) {
        const Elf64_Nhdr *note = (const Elf64_Nhdr *)(notes + offset);
        size_t name_offset = offset + sizeof(Elf64_Nhdr);
        size_t descriptor_offset = name_offset + ((note->n_namesz + 3) & ~(size_t)3);
        size_t next = descriptor_offset + ((note->n_descsz + 3) & ~(size_t)3);
        if (next > size || next <= offset) return 0;
        if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4
            && memcmp(notes + name_offset, "GNU", 4) == 0) {
            size_t length = note->n_descsz < capacity ? note->n_descsz : capacity;
            memcpy(out, notes + descriptor_offset, length);
            return length;
        }
        offset = next;
    }
    return 0;
}

static int lwd_find_image(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    lwd_image_query *query = context;
    uintptr_t low = UINTPTR_MAX, high = 0;
    int holds = 0;
    for (ElfW(Half) index = 0; index < info->dlpi_phnum; index++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[index];
        if (segment->p_type != PT_LOAD) continue;
        uintptr_t start = info->dlpi_addr + segment->p_vaddr;
        uintptr_t end = start + segment->p_memsz;
        if (start < low) low = start;
        if (end > high) high = end;
        if (query->address >= start && query->address < end) holds = 1;
    }
    if (!holds) return 0;
    query->found = 1;
    const char *name = info->dlpi_name != NULL ? info->dlpi_name : "";
    size_t length = strlen(name);
    query->name_fits = length < sizeof(query->name);
    if (query->name_fits) memcpy(query->name, name, length + 1);
    query->bias = info->dlpi_addr;
    query->start = low;
    query->end = high;
    for (ElfW(Half) index = 0; index < info->dlpi_phnum && query->build_id_length == 0; index++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[index];
        if (segment->p_type != PT_NOTE) continue;
        query->build_id_length = lwd_note_build_id(
            (const uint8_t *)(info->dlpi_addr + segment->p_vaddr), segment->p_memsz,
            query->build_id, query->build_id_capacity);
    }
    return 1;
}

int lwd_loaded_image(uintptr_t address, char *path, size_t capacity, uintptr_t *bias,
                     uint8_t *build_id, size_t *build_id_length, uintptr_t *start,
                     uintptr_t *end) {
    lwd_image_query query;
    memset(&query, 0, sizeof(query));
    query.address = address;
    query.build_id = build_id;
    query.build_id_capacity = LWD_BUILD_ID_MAX;
    if (dl_iterate_phdr(lwd_find_image, &query) == 0 || !query.found) return 0;
    *bias = query.bias;
    *start = query.start;
    *end = query.end;
    *build_id_length = query.build_id_length;
    if (capacity == 0) return 1;
    const char *found = query.name;
    if (!query.name_fits) return 0;
    if (strncmp(found, "linux-vdso", 10) == 0) return -1;
    if (found[0] == 0) {
        ssize_t length = readlink("/proc/self/exe", path, capacity - 1);
        if (length <= 0) return 0;
        path[length] = 0;
        // A deleted executable reads as "PATH (deleted)": its file is gone.
        const char *deleted = " (deleted)";
        size_t suffix = strlen(deleted);
        if ((size_t)length > suffix && strcmp(path + length - suffix, deleted) == 0) return 0;
        return 1;
    }
    size_t length = strlen(found);
    if (length >= capacity) return 0;
    memcpy(path, found, length + 1);
    return 1;
}

uintptr_t lwd_executable_entry(void) {
    return (uintptr_t)getauxval(AT_ENTRY);
}
