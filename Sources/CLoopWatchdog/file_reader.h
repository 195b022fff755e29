// A forward reader over a file through pread and one fixed buffer: the symbolicator reads
// ELF and DWARF with it, so that no section is mapped or copied whole (a large binary's
// debug information is tens of megabytes; the reader holds 64 KB).
//
// Every read past the limit or failing sets `failed` and returns zeros: callers check
// `failed` once after a unit of work instead of after every field.
#ifndef LWD_FILE_READER_H
#define LWD_FILE_READER_H

#include <stdint.h>
#include <stddef.h>

#define LWD_READER_BUFFER 65536

typedef struct {
    int fd;
    /// Absolute file offset of the next byte to read.
    uint64_t position;
    /// Reads stop here (the end of the section or unit being read).
    uint64_t limit;
    uint64_t buffer_start;
    size_t buffer_length;
    int failed;
    uint8_t buffer[LWD_READER_BUFFER];
} lwd_reader;

void lwd_reader_init(lwd_reader *reader, int fd);
/// Moves to `position`; later reads stop at `limit`.
void lwd_reader_seek(lwd_reader *reader, uint64_t position, uint64_t limit);
uint8_t lwd_read_u8(lwd_reader *reader);
uint16_t lwd_read_u16(lwd_reader *reader);
uint32_t lwd_read_u32(lwd_reader *reader);
uint64_t lwd_read_u64(lwd_reader *reader);
/// An unsigned value of `size` bytes (1, 2, 4 or 8), little-endian.
uint64_t lwd_read_sized(lwd_reader *reader, unsigned size);
uint64_t lwd_read_uleb(lwd_reader *reader);
int64_t lwd_read_sleb(lwd_reader *reader);
void lwd_read_skip(lwd_reader *reader, uint64_t count);
/// Reads a NUL-terminated string into `out` (truncated to `capacity` - 1 bytes, always
/// terminated when `capacity` > 0); the rest of a long string is skipped.
void lwd_read_cstring(lwd_reader *reader, char *out, size_t capacity);

/// Reads the NUL-terminated string at absolute file offset `offset`, at most `capacity` - 1
/// bytes, with pread and no buffer. Returns its length, or -1 when nothing could be read.
long lwd_pread_cstring(int fd, uint64_t offset, char *out, size_t capacity);

#endif
