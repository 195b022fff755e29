// An ELF file opened for symbolication: section table, build ID and the function symbol
// index (see lwd_elf_image in CLoopWatchdog.h). The DWARF line table is dwarf_lines.c's.
#include "elf_image.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/// Reads the notes in [offset, offset + size) and keeps the GNU build ID.
static void lwd_read_build_id(struct lwd_elf_image *image, uint64_t offset, uint64_t size) {
    lwd_reader *reader = image->reader;
    lwd_reader_seek(reader, offset, offset + size);
    while (!reader->failed && reader->position + 12 <= reader->limit) {
        uint32_t name_size = lwd_read_u32(reader);
        uint32_t descriptor_size = lwd_read_u32(reader);
        uint32_t type = lwd_read_u32(reader);
        char name[8] = {0};
        uint64_t name_padded = ((uint64_t)name_size + 3) & ~(uint64_t)3;
        uint64_t descriptor_padded = ((uint64_t)descriptor_size + 3) & ~(uint64_t)3;
        if (name_size <= sizeof(name)) {
            for (uint32_t index = 0; index < name_size; index++) name[index] = (char)lwd_read_u8(reader);
            lwd_read_skip(reader, name_padded - name_size);
        } else {
            lwd_read_skip(reader, name_padded);
        }
        if (type == NT_GNU_BUILD_ID && name_size == 4 && memcmp(name, "GNU", 4) == 0
            && descriptor_size > 0 && descriptor_size <= LWD_BUILD_ID_MAX) {
            for (uint32_t index = 0; index < descriptor_size; index++) {
                image->build_id[index] = lwd_read_u8(reader);
            }
            if (!reader->failed) image->build_id_length = descriptor_size;
            return;
        }
        lwd_read_skip(reader, descriptor_padded);
    }
}

/// Reads the section table: the symbol table and its strings, the DWARF sections, and the
/// build ID notes. Returns 0 or -errno.
static int lwd_read_sections(struct lwd_elf_image *image) {
    Elf64_Ehdr header;
    ssize_t got = pread(image->fd, &header, sizeof(header), 0);
    if (got != (ssize_t)sizeof(header)) return -ENOEXEC;
    if (memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64
        || header.e_ident[EI_DATA] != ELFDATA2LSB || header.e_shentsize != sizeof(Elf64_Shdr)) {
        return -ENOEXEC;
    }
    uint64_t count = header.e_shnum;
    uint64_t names_index = header.e_shstrndx;
    Elf64_Shdr first;
    if (pread(image->fd, &first, sizeof(first), (off_t)header.e_shoff) != (ssize_t)sizeof(first)) {
        return -ENOEXEC;
    }
    if (count == 0) count = first.sh_size;
    if (names_index == SHN_XINDEX) names_index = first.sh_link;
    if (count == 0 || count > 65536 || names_index >= count) return -ENOEXEC;

    Elf64_Shdr *sections = calloc(count, sizeof(Elf64_Shdr));
    if (sections == NULL) return -ENOMEM;
    size_t bytes = count * sizeof(Elf64_Shdr);
    if (pread(image->fd, sections, bytes, (off_t)header.e_shoff) != (ssize_t)bytes) {
        free(sections);
        return -ENOEXEC;
    }
    uint64_t names_offset = sections[names_index].sh_offset;
    int dynamic_symbols = -1;
    for (uint64_t index = 0; index < count; index++) {
        Elf64_Shdr *section = &sections[index];
        if (section->sh_type == SHT_NOBITS) continue;
        lwd_section where = {section->sh_offset, section->sh_size};
        if (section->sh_type == SHT_SYMTAB && section->sh_link < count) {
            image->symbols = where;
            image->symbol_names = (lwd_section){sections[section->sh_link].sh_offset, sections[section->sh_link].sh_size};
            continue;
        }
        if (section->sh_type == SHT_DYNSYM) dynamic_symbols = (int)index;
        if (section->sh_type == SHT_NOTE && image->build_id_length == 0) {
            lwd_read_build_id(image, section->sh_offset, section->sh_size);
            continue;
        }
        if (section->sh_type != SHT_PROGBITS || (section->sh_flags & SHF_COMPRESSED)) continue;
        char name[24];
        if (lwd_pread_cstring(image->fd, names_offset + section->sh_name, name, sizeof(name)) < 0) continue;
        if (strcmp(name, ".debug_line") == 0) image->debug_line = where;
        else if (strcmp(name, ".debug_line_str") == 0) image->debug_line_str = where;
        else if (strcmp(name, ".debug_str") == 0) image->debug_str = where;
    }
    if (image->symbols.size == 0 && dynamic_symbols >= 0) {
        Elf64_Shdr *section = &sections[dynamic_symbols];
        if (section->sh_link < count) {
            image->symbols = (lwd_section){section->sh_offset, section->sh_size};
            image->symbol_names = (lwd_section){sections[section->sh_link].sh_offset, sections[section->sh_link].sh_size};
        }
    }
    free(sections);
    return 0;
}

lwd_elf_image *lwd_elf_image_open(const char *path) {
    int fd;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return NULL;
    struct lwd_elf_image *image = calloc(1, sizeof(*image));
    lwd_reader *reader = malloc(sizeof(lwd_reader));
    if (image == NULL || reader == NULL) {
        free(image);
        free(reader);
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    image->fd = fd;
    image->reader = reader;
    lwd_reader_init(reader, fd);
    int result = lwd_read_sections(image);
    if (result < 0) {
        lwd_elf_image_close(image);
        errno = -result;
        return NULL;
    }
    return image;
}

void lwd_elf_image_close(lwd_elf_image *image) {
    if (image == NULL) return;
    close(image->fd);
    free(image->reader);
    free(image->symbol_index);
    free(image->line_index);
    free(image);
}

static int lwd_compare_symbols(const void *left, const void *right) {
    const lwd_symbol_entry *a = left, *b = right;
    if (a->address != b->address) return a->address < b->address ? -1 : 1;
    // Of two symbols at one address the larger comes first, and is the one kept.
    if (a->size != b->size) return a->size > b->size ? -1 : 1;
    return 0;
}

/// Builds the sorted index of function symbols. Returns 0 or -errno.
static int lwd_index_symbols(struct lwd_elf_image *image) {
    if (image->symbols_indexed) return 0;
    image->symbols_indexed = 1;
    uint64_t total = image->symbols.size / sizeof(Elf64_Sym);
    if (total == 0) return 0;
    lwd_symbol_entry *entries = malloc(total * sizeof(lwd_symbol_entry));
    if (entries == NULL) return -ENOMEM;
    lwd_reader *reader = image->reader;
    lwd_reader_seek(reader, image->symbols.offset, image->symbols.offset + image->symbols.size);
    size_t count = 0;
    for (uint64_t index = 0; index < total && !reader->failed; index++) {
        uint32_t name = lwd_read_u32(reader);
        uint8_t info = lwd_read_u8(reader);
        lwd_read_u8(reader);
        uint16_t section = lwd_read_u16(reader);
        uint64_t value = lwd_read_u64(reader);
        uint64_t size = lwd_read_u64(reader);
        int type = ELF64_ST_TYPE(info);
        if ((type != STT_FUNC && type != STT_GNU_IFUNC) || section == SHN_UNDEF || value == 0) continue;
        if (name >= image->symbol_names.size) continue;
        entries[count++] = (lwd_symbol_entry){value, size > UINT32_MAX ? UINT32_MAX : (uint32_t)size, name};
    }
    qsort(entries, count, sizeof(lwd_symbol_entry), lwd_compare_symbols);
    size_t kept = 0;
    for (size_t index = 0; index < count; index++) {
        if (kept > 0 && entries[kept - 1].address == entries[index].address) continue;
        entries[kept++] = entries[index];
    }
    lwd_symbol_entry *shrunk = kept > 0 ? realloc(entries, kept * sizeof(lwd_symbol_entry)) : NULL;
    if (shrunk == NULL) {
        free(entries);
        entries = NULL;
        kept = 0;
    } else {
        entries = shrunk;
    }
    image->symbol_index = entries;
    image->symbol_count = kept;
    return 0;
}

int lwd_elf_image_prepare(lwd_elf_image *image) {
    int symbols = lwd_index_symbols(image);
    int lines = lwd_elf_index_lines(image);
    return symbols < 0 ? symbols : lines;
}

size_t lwd_elf_image_memory(const lwd_elf_image *image) {
    return sizeof(*image) + sizeof(lwd_reader) + image->symbol_count * sizeof(lwd_symbol_entry)
        + image->line_count * sizeof(lwd_line_sequence);
}

size_t lwd_elf_image_build_id(const lwd_elf_image *image, uint8_t *out, size_t capacity) {
    size_t length = image->build_id_length < capacity ? image->build_id_length : capacity;
    memcpy(out, image->build_id, length);
    return length;
}

int lwd_elf_image_symbol(lwd_elf_image *image, uint64_t address, char *name, size_t capacity,
                         uint64_t *start, uint64_t *size) {
    if (lwd_index_symbols(image) < 0 || image->symbol_count == 0) return 0;
    // The last symbol that starts at or before the address.
    size_t low = 0, high = image->symbol_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (image->symbol_index[middle].address <= address) low = middle + 1;
        else high = middle;
    }
    if (low == 0) return 0;
    const lwd_symbol_entry *entry = &image->symbol_index[low - 1];
    // A symbol without a size (hand-written assembly) covers up to the next one.
    if (entry->size != 0 && address - entry->address >= entry->size) return 0;
    if (lwd_pread_cstring(image->fd, image->symbol_names.offset + entry->name, name, capacity) <= 0) return 0;
    *start = entry->address;
    if (size != NULL) *size = entry->size;
    return 1;
}
