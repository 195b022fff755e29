// The DWARF line table of an lwd_elf_image (DWARF 2 to 5, `.debug_line`).
//
// Indexing runs every line program once and keeps, for each sequence, the addresses it
// covers and where its opcodes start; nothing else stays in memory. A lookup finds the
// sequence by binary search and runs only that sequence again (the state machine starts
// afresh at each sequence), then reads the one file name it needs from the unit's header.
#include "elf_image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    LWD_LNS_COPY = 1, LWD_LNS_ADVANCE_PC, LWD_LNS_ADVANCE_LINE, LWD_LNS_SET_FILE,
    LWD_LNS_SET_COLUMN, LWD_LNS_NEGATE_STMT, LWD_LNS_SET_BASIC_BLOCK, LWD_LNS_CONST_ADD_PC,
    LWD_LNS_FIXED_ADVANCE_PC, LWD_LNS_SET_PROLOGUE_END,
    LWD_LNE_END_SEQUENCE = 1, LWD_LNE_SET_ADDRESS = 2,
    LWD_LNCT_PATH = 1, LWD_LNCT_DIRECTORY_INDEX = 2,
    LWD_FORM_BLOCK = 0x09, LWD_FORM_DATA1 = 0x0b, LWD_FORM_DATA2 = 0x05, LWD_FORM_DATA4 = 0x06,
    LWD_FORM_DATA8 = 0x07, LWD_FORM_DATA16 = 0x1e, LWD_FORM_STRING = 0x08, LWD_FORM_STRP = 0x0e,
    LWD_FORM_UDATA = 0x0f, LWD_FORM_LINE_STRP = 0x1f,
};

/// One line program's header, as far as running it and naming its files needs.
typedef struct {
    uint64_t unit_start;
    uint64_t unit_end;
    uint64_t program_start;
    /// Where the directory and file tables start.
    uint64_t tables_start;
    uint16_t version;
    unsigned offset_size;
    uint8_t minimum_instruction_length;
    int8_t line_base;
    uint8_t line_range;
    uint8_t opcode_base;
    uint8_t standard_lengths[256];
} lwd_line_unit;

/// A row of the line table.
typedef struct {
    uint64_t address;
    uint64_t file;
    uint64_t line;
    int end_sequence;
    /// Set on the first row of a function's body, after its prologue (DW_LNS_set_prologue_end).
    int prologue_end;
} lwd_line_row;

/// Reads the header of the unit at absolute file offset `start`. Returns 0 or -1.
static int lwd_read_line_unit(lwd_reader *reader, uint64_t start, uint64_t section_end, lwd_line_unit *unit) {
    lwd_reader_seek(reader, start, section_end);
    unit->unit_start = start;
    uint64_t length = lwd_read_u32(reader);
    unit->offset_size = 4;
    if (length == 0xffffffffu) {
        length = lwd_read_u64(reader);
        unit->offset_size = 8;
    }
    if (reader->failed || length > section_end - reader->position) return -1;
    unit->unit_end = reader->position + length;
    reader->limit = unit->unit_end;
    unit->version = lwd_read_u16(reader);
    if (unit->version < 2 || unit->version > 5) return -1;
    if (unit->version >= 5) {
        lwd_read_u8(reader);  // address size
        lwd_read_u8(reader);  // segment selector size
    }
    uint64_t header_length = lwd_read_sized(reader, unit->offset_size);
    unit->program_start = reader->position + header_length;
    unit->minimum_instruction_length = lwd_read_u8(reader);
    if (unit->version >= 4) lwd_read_u8(reader);  // maximum operations per instruction
    lwd_read_u8(reader);                          // default is_stmt
    unit->line_base = (int8_t)lwd_read_u8(reader);
    unit->line_range = lwd_read_u8(reader);
    unit->opcode_base = lwd_read_u8(reader);
    memset(unit->standard_lengths, 0, sizeof(unit->standard_lengths));
    for (unsigned opcode = 1; opcode < unit->opcode_base; opcode++) {
        unit->standard_lengths[opcode] = lwd_read_u8(reader);
    }
    unit->tables_start = reader->position;
    if (reader->failed || unit->line_range == 0 || unit->program_start > unit->unit_end) return -1;
    return 0;
}

/// The line state machine's registers.
typedef struct {
    uint64_t address;
    uint64_t file;
    int64_t line;
    int prologue_end;
} lwd_line_registers;

static void lwd_reset_registers(lwd_line_registers *registers) {
    registers->address = 0;
    registers->file = 1;
    registers->line = 1;
    registers->prologue_end = 0;
}

/// Runs opcodes until the next row. Returns 1 with `row` filled, 0 at the end of the unit,
/// -1 on a malformed program.
static int lwd_line_step(lwd_reader *reader, const lwd_line_unit *unit, lwd_line_registers *registers,
                         lwd_line_row *row) {
    while (reader->position < unit->unit_end) {
        uint8_t opcode = lwd_read_u8(reader);
        if (reader->failed) return -1;
        int emit = 0, end_sequence = 0;
        if (opcode >= unit->opcode_base) {
            unsigned adjusted = opcode - unit->opcode_base;
            registers->address += (uint64_t)(adjusted / unit->line_range) * unit->minimum_instruction_length;
            registers->line += unit->line_base + (int)(adjusted % unit->line_range);
            emit = 1;
        } else if (opcode == 0) {
            uint64_t length = lwd_read_uleb(reader);
            if (length == 0) continue;
            uint64_t end = reader->position + length;
            uint8_t extended = lwd_read_u8(reader);
            if (extended == LWD_LNE_END_SEQUENCE) {
                emit = 1;
                end_sequence = 1;
            } else if (extended == LWD_LNE_SET_ADDRESS && length - 1 <= 8) {
                registers->address = lwd_read_sized(reader, (unsigned)(length - 1));
            }
            if (reader->failed || end > unit->unit_end) return -1;
            reader->position = end;
        } else {
            switch (opcode) {
            case LWD_LNS_COPY: emit = 1; break;
            case LWD_LNS_ADVANCE_PC:
                registers->address += lwd_read_uleb(reader) * unit->minimum_instruction_length;
                break;
            case LWD_LNS_ADVANCE_LINE: registers->line += lwd_read_sleb(reader); break;
            case LWD_LNS_SET_FILE: registers->file = lwd_read_uleb(reader); break;
            case LWD_LNS_CONST_ADD_PC:
                registers->address += (uint64_t)((255 - unit->opcode_base) / unit->line_range)
                    * unit->minimum_instruction_length;
                break;
            case LWD_LNS_FIXED_ADVANCE_PC: registers->address += lwd_read_u16(reader); break;
            case LWD_LNS_NEGATE_STMT:
            case LWD_LNS_SET_BASIC_BLOCK:
                break;
            case LWD_LNS_SET_PROLOGUE_END: registers->prologue_end = 1; break;
            default:
                // DW_LNS_set_column, set_prologue_end, set_isa and any opcode this reader
                // does not know: skip its operands as the header says.
                for (unsigned index = 0; index < unit->standard_lengths[opcode]; index++) lwd_read_uleb(reader);
                break;
            }
        }
        if (reader->failed) return -1;
        if (emit) {
            row->address = registers->address;
            row->file = registers->file;
            row->line = registers->line > 0 ? (uint64_t)registers->line : 0;
            row->end_sequence = end_sequence;
            row->prologue_end = registers->prologue_end;
            registers->prologue_end = 0;
            if (end_sequence) lwd_reset_registers(registers);
            return 1;
        }
    }
    return 0;
}

static int lwd_compare_sequences(const void *left, const void *right) {
    const lwd_line_sequence *a = left, *b = right;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    return 0;
}

int lwd_elf_index_lines(struct lwd_elf_image *image) {
    if (image->lines_indexed) return 0;
    image->lines_indexed = 1;
    if (image->debug_line.size == 0) return 0;
    lwd_reader *reader = image->reader;
    uint64_t section_start = image->debug_line.offset;
    uint64_t section_end = section_start + image->debug_line.size;
    size_t capacity = 1024, count = 0;
    lwd_line_sequence *sequences = malloc(capacity * sizeof(lwd_line_sequence));
    if (sequences == NULL) return -ENOMEM;
    lwd_line_unit unit;
    uint64_t unit_start = section_start;
    while (unit_start < section_end && lwd_read_line_unit(reader, unit_start, section_end, &unit) == 0) {
        if (unit_start - section_start > UINT32_MAX) break;
        lwd_reader_seek(reader, unit.program_start, unit.unit_end);
        lwd_line_registers registers;
        lwd_reset_registers(&registers);
        lwd_line_row row;
        uint64_t opcodes = unit.program_start;
        int first = 1;
        uint64_t start = 0;
        int result;
        while ((result = lwd_line_step(reader, &unit, &registers, &row)) == 1) {
            if (first) {
                start = row.address;
                first = 0;
            }
            if (!row.end_sequence) continue;
            // Sequences of code the linker dropped keep address 0 (or a tombstone).
            if (start != 0 && row.address > start && start < UINT64_MAX - 1) {
                if (count == capacity) {
                    lwd_line_sequence *grown = realloc(sequences, 2 * capacity * sizeof(lwd_line_sequence));
                    if (grown == NULL) {
                        free(sequences);
                        return -ENOMEM;
                    }
                    sequences = grown;
                    capacity *= 2;
                }
                sequences[count++] = (lwd_line_sequence){
                    start, row.address, (uint32_t)(unit_start - section_start), (uint32_t)(opcodes - section_start)};
            }
            opcodes = reader->position;
            first = 1;
        }
        unit_start = unit.unit_end;
    }
    qsort(sequences, count, sizeof(lwd_line_sequence), lwd_compare_sequences);
    lwd_line_sequence *shrunk = count > 0 ? realloc(sequences, count * sizeof(lwd_line_sequence)) : NULL;
    if (shrunk == NULL) {
        free(sequences);
        sequences = NULL;
        count = 0;
    }
    image->line_index = shrunk;
    image->line_count = count;
    return 0;
}

/// Reads one attribute value of `form` from a line header's tables: a number into `number`,
/// a string's file offset into `string_offset` (or the string itself into `inline_string`).
/// Returns 0, or -1 for a form this reader does not know.
static int lwd_read_table_form(struct lwd_elf_image *image, const lwd_line_unit *unit, uint64_t form,
                               uint64_t *number, uint64_t *string_offset, char *inline_string, size_t capacity) {
    lwd_reader *reader = image->reader;
    *string_offset = 0;
    switch (form) {
    case LWD_FORM_STRING:
        lwd_read_cstring(reader, inline_string, capacity);
        *string_offset = UINT64_MAX;
        return 0;
    case LWD_FORM_LINE_STRP: {
        uint64_t offset = lwd_read_sized(reader, unit->offset_size);
        if (offset >= image->debug_line_str.size) return -1;
        *string_offset = image->debug_line_str.offset + offset;
        return 0;
    }
    case LWD_FORM_STRP: {
        uint64_t offset = lwd_read_sized(reader, unit->offset_size);
        if (offset >= image->debug_str.size) return -1;
        *string_offset = image->debug_str.offset + offset;
        return 0;
    }
    case LWD_FORM_UDATA: *number = lwd_read_uleb(reader); return 0;
    case LWD_FORM_DATA1: *number = lwd_read_u8(reader); return 0;
    case LWD_FORM_DATA2: *number = lwd_read_u16(reader); return 0;
    case LWD_FORM_DATA4: *number = lwd_read_u32(reader); return 0;
    case LWD_FORM_DATA8: *number = lwd_read_u64(reader); return 0;
    case LWD_FORM_DATA16: lwd_read_skip(reader, 16); return 0;
    case LWD_FORM_BLOCK: lwd_read_skip(reader, lwd_read_uleb(reader)); return 0;
    default: return -1;
    }
}

/// A string read by lwd_read_table_form: copied from the file when it was an offset.
static void lwd_table_string(struct lwd_elf_image *image, uint64_t string_offset, char *out, size_t capacity) {
    if (string_offset != UINT64_MAX && (string_offset == 0 || lwd_pread_cstring(image->fd, string_offset, out, capacity) < 0)) {
        out[0] = 0;
    }
}

/// Reads a DWARF 5 entry table (directories or files) and keeps entry `wanted`'s path and
/// directory index. Leaves the reader after the table. Returns 0 or -1.
static int lwd_read_v5_table(struct lwd_elf_image *image, const lwd_line_unit *unit, uint64_t wanted,
                             char *path, size_t capacity, uint64_t *directory) {
    lwd_reader *reader = image->reader;
    uint8_t format_count = lwd_read_u8(reader);
    uint64_t formats[16][2];
    if (format_count > 16) return -1;
    for (unsigned index = 0; index < format_count; index++) {
        formats[index][0] = lwd_read_uleb(reader);
        formats[index][1] = lwd_read_uleb(reader);
    }
    uint64_t count = lwd_read_uleb(reader);
    path[0] = 0;
    for (uint64_t entry = 0; entry < count && !reader->failed; entry++) {
        for (unsigned index = 0; index < format_count; index++) {
            uint64_t number = 0, string_offset = 0;
            char scratch[8];
            int keep = entry == wanted && formats[index][0] == LWD_LNCT_PATH;
            if (lwd_read_table_form(image, unit, formats[index][1], &number, &string_offset,
                                    keep ? path : scratch, keep ? capacity : sizeof(scratch)) < 0) {
                return -1;
            }
            if (entry != wanted) continue;
            if (formats[index][0] == LWD_LNCT_PATH) {
                uint64_t position = reader->position;
                lwd_table_string(image, string_offset, path, capacity);
                reader->position = position;
            } else if (formats[index][0] == LWD_LNCT_DIRECTORY_INDEX) {
                *directory = number;
            }
        }
    }
    return reader->failed ? -1 : 0;
}

/// Joins `directory` and `name` into `out` unless `name` is absolute.
static void lwd_join_path(char *out, size_t capacity, const char *directory, const char *name) {
    char joined[4096];
    if (name[0] == '/' || directory[0] == 0) snprintf(joined, sizeof(joined), "%s", name);
    else snprintf(joined, sizeof(joined), "%s/%s", directory, name);
    snprintf(out, capacity, "%s", joined);
}

/// The path of file `file` of `unit`'s file table into `out`. Returns 1 when known.
static int lwd_line_file_path(struct lwd_elf_image *image, const lwd_line_unit *unit, uint64_t file,
                              char *out, size_t capacity) {
    lwd_reader *reader = image->reader;
    lwd_reader_seek(reader, unit->tables_start, unit->program_start);
    char name[2048], directory[2048], root[2048];
    uint64_t directory_index = 0, unused = 0;
    if (unit->version >= 5) {
        uint64_t directories = reader->position;
        // Skip the directories to the files, then come back for the one directory needed.
        if (lwd_read_v5_table(image, unit, UINT64_MAX, directory, sizeof(directory), &unused) < 0) return 0;
        if (lwd_read_v5_table(image, unit, file, name, sizeof(name), &directory_index) < 0 || name[0] == 0) return 0;
        lwd_reader_seek(reader, directories, unit->program_start);
        if (lwd_read_v5_table(image, unit, directory_index, directory, sizeof(directory), &unused) < 0) return 0;
        if (directory[0] != '/' && directory_index != 0) {
            lwd_reader_seek(reader, directories, unit->program_start);
            if (lwd_read_v5_table(image, unit, 0, root, sizeof(root), &unused) < 0) return 0;
            char combined[4096];
            lwd_join_path(combined, sizeof(combined), root, directory);
            snprintf(directory, sizeof(directory), "%s", combined);
        }
    } else {
        // DWARF 2-4: include directories (1-based), then files (1-based); directory 0 is the
        // compilation directory, which only the unit's debug information names.
        uint64_t directories = reader->position;
        for (;;) {
            lwd_read_cstring(reader, directory, 2);
            if (directory[0] == 0 || reader->failed) break;
        }
        for (uint64_t entry = 1;; entry++) {
            lwd_read_cstring(reader, name, sizeof(name));
            if (name[0] == 0 || reader->failed) return 0;
            uint64_t index = lwd_read_uleb(reader);
            lwd_read_uleb(reader);
            lwd_read_uleb(reader);
            if (entry == file) {
                directory_index = index;
                break;
            }
        }
        directory[0] = 0;
        if (directory_index > 0) {
            lwd_reader_seek(reader, directories, unit->program_start);
            for (uint64_t entry = 1; entry <= directory_index; entry++) {
                lwd_read_cstring(reader, directory, sizeof(directory));
                if (directory[0] == 0 || reader->failed) return 0;
            }
        }
    }
    if (reader->failed) return 0;
    lwd_join_path(out, capacity, directory, name);
    return 1;
}

/// The row that locates `address`: the last row at or before it or, with `body_end` above
/// `address`, the first row after the prologue of the function starting at `address`
/// (below `body_end`), when there is one. Returns 1 with the unit and row filled.
static int lwd_find_row(lwd_elf_image *image, uint64_t address, uint64_t body_end, lwd_line_unit *unit,
                        lwd_line_row *found) {
    if (lwd_elf_index_lines(image) < 0 || image->line_count == 0) return 0;
    size_t low = 0, high = image->line_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (image->line_index[middle].start <= address) low = middle + 1;
        else high = middle;
    }
    if (low == 0) return 0;
    const lwd_line_sequence *sequence = &image->line_index[low - 1];
    if (address >= sequence->end) return 0;

    lwd_reader *reader = image->reader;
    uint64_t section_end = image->debug_line.offset + image->debug_line.size;
    if (lwd_read_line_unit(reader, image->debug_line.offset + sequence->unit, section_end, unit) < 0) return 0;
    lwd_reader_seek(reader, image->debug_line.offset + sequence->opcodes, unit->unit_end);
    lwd_line_registers registers;
    lwd_reset_registers(&registers);
    lwd_line_row row, previous = {0};
    int have_previous = 0;
    // The answer is the last row at or before the address: the row before the first one past it.
    while (lwd_line_step(reader, unit, &registers, &row) == 1) {
        if (row.address > address) break;
        if (row.end_sequence) return 0;
        previous = row;
        have_previous = 1;
    }
    if (!have_previous) return 0;
    *found = previous;
    if (body_end <= address || previous.prologue_end) return 1;
    // After the prologue: this row or a later one, below the end of the function.
    while (!row.end_sequence && row.address < body_end) {
        if (row.address >= address && row.prologue_end && row.line != 0) {
            *found = row;
            return 1;
        }
        if (lwd_line_step(reader, unit, &registers, &row) != 1) break;
    }
    return 1;
}

static int lwd_row_location(lwd_elf_image *image, const lwd_line_unit *unit, const lwd_line_row *row,
                            char *path, size_t capacity, uint32_t *line) {
    if (row->line == 0 || row->line > UINT32_MAX) return 0;
    if (!lwd_line_file_path(image, unit, row->file, path, capacity)) return 0;
    *line = (uint32_t)row->line;
    return 1;
}

int lwd_elf_image_line(lwd_elf_image *image, uint64_t address, char *path, size_t capacity, uint32_t *line) {
    lwd_line_unit unit;
    lwd_line_row row;
    if (!lwd_find_row(image, address, 0, &unit, &row)) return 0;
    return lwd_row_location(image, &unit, &row, path, capacity, line);
}

int lwd_elf_image_body_line(lwd_elf_image *image, uint64_t address, uint64_t end, char *path, size_t capacity,
                            uint32_t *line) {
    lwd_line_unit unit;
    lwd_line_row row;
    if (!lwd_find_row(image, address, end, &unit, &row)) return 0;
    return lwd_row_location(image, &unit, &row, path, capacity, line);
}
