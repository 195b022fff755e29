// The internals of an ELF file opened for symbolication (the opaque lwd_elf_image of
// CLoopWatchdog.h), shared by elf_image.c (sections, symbols, build ID) and dwarf_lines.c
// (the DWARF line table).
#ifndef LWD_ELF_IMAGE_H
#define LWD_ELF_IMAGE_H

#include "CLoopWatchdog.h"
#include "file_reader.h"

/// Where a section lies in the file; `size` 0 when the file has no such section.
typedef struct {
    uint64_t offset;
    uint64_t size;
} lwd_section;

/// A function symbol: its start address, size and name offset in the string table.
typedef struct {
    uint64_t address;
    uint32_t size;
    uint32_t name;
} lwd_symbol_entry;

/// A DWARF line sequence: the addresses it covers, its line program's unit and where the
/// sequence's opcodes start (the state machine is reset at each sequence's start).
typedef struct {
    uint64_t start;
    uint64_t end;
    uint32_t unit;
    uint32_t opcodes;
} lwd_line_sequence;

struct lwd_elf_image {
    int fd;
    lwd_reader *reader;
    lwd_section symbols;
    lwd_section symbol_names;
    lwd_section debug_line;
    lwd_section debug_line_str;
    lwd_section debug_str;
    uint8_t build_id[LWD_BUILD_ID_MAX];
    size_t build_id_length;

    int symbols_indexed;
    lwd_symbol_entry *symbol_index;
    size_t symbol_count;

    int lines_indexed;
    lwd_line_sequence *line_index;
    size_t line_count;
};

/// Builds the line sequence index (dwarf_lines.c). Returns 0, or -errno.
int lwd_elf_index_lines(struct lwd_elf_image *image);

#endif
