// The buffered pread reader of file_reader.h.
#include "file_reader.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void lwd_reader_init(lwd_reader *reader, int fd) {
    reader->fd = fd;
    reader->position = 0;
    reader->limit = 0;
    reader->buffer_start = 0;
    reader->buffer_length = 0;
    reader->failed = 0;
}

void lwd_reader_seek(lwd_reader *reader, uint64_t position, uint64_t limit) {
    reader->position = position;
    reader->limit = limit;
    reader->failed = 0;
}

/// Makes the byte at `position` available in the buffer; 0 when it cannot be read.
static int lwd_reader_fill(lwd_reader *reader) {
    if (reader->position >= reader->limit) return 0;
    if (reader->position >= reader->buffer_start
        && reader->position < reader->buffer_start + reader->buffer_length) {
        return 1;
    }
    uint64_t wanted = reader->limit - reader->position;
    if (wanted > LWD_READER_BUFFER) wanted = LWD_READER_BUFFER;
    ssize_t got;
    do {
        got = pread(reader->fd, reader->buffer, (size_t)wanted, (off_t)reader->position);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
        reader->buffer_length = 0;
        return 0;
    }
    reader->buffer_start = reader->position;
    reader->buffer_length = (size_t)got;
    return 1;
}

uint8_t lwd_read_u8(lwd_reader *reader) {
    if (reader->failed || !lwd_reader_fill(reader)) {
        reader->failed = 1;
        return 0;
    }
    uint8_t value = reader->buffer[reader->position - reader->buffer_start];
    reader->position += 1;
    return value;
}

uint64_t lwd_read_sized(lwd_reader *reader, unsigned size) {
    uint64_t value = 0;
    for (unsigned index = 0; index < size; index++) {
        value |= (uint64_t)lwd_read_u8(reader) << (8 * index);
    }
    return value;
}

uint16_t lwd_read_u16(lwd_reader *reader) { return (uint16_t)lwd_read_sized(reader, 2); }
uint32_t lwd_read_u32(lwd_reader *reader) { return (uint32_t)lwd_read_sized(reader, 4); }
uint64_t lwd_read_u64(lwd_reader *reader) { return lwd_read_sized(reader, 8); }

uint64_t lwd_read_uleb(lwd_reader *reader) {
    uint64_t value = 0;
    unsigned shift = 0;
    for (;;) {
        uint8_t byte = lwd_read_u8(reader);
        if (shift < 64) value |= (uint64_t)(byte & 0x7f) << shift;
        shift += 7;
        if (!(byte & 0x80) || reader->failed) return value;
    }
}

int64_t lwd_read_sleb(lwd_reader *reader) {
    uint64_t value = 0;
    unsigned shift = 0;
    uint8_t byte;
    do {
        byte = lwd_read_u8(reader);
        if (shift < 64) value |= (uint64_t)(byte & 0x7f) << shift;
        shift += 7;
    } while ((byte & 0x80) && !reader->failed);
    if (shift < 64 && (byte & 0x40)) value |= ~(uint64_t)0 << shift;
    return (int64_t)value;
}

void lwd_read_skip(lwd_reader *reader, uint64_t count) {
    if (reader->position > reader->limit || count > reader->limit - reader->position) {
        reader->failed = 1;
        reader->position = reader->limit;
        return;
    }
    reader->position += count;
}

void lwd_read_cstring(lwd_reader *reader, char *out, size_t capacity) {
    size_t length = 0;
    for (;;) {
        uint8_t byte = lwd_read_u8(reader);
        if (byte == 0 || reader->failed) break;
        if (length + 1 < capacity) out[length++] = (char)byte;
    }
    if (capacity > 0) out[length] = 0;
}

long lwd_pread_cstring(int fd, uint64_t offset, char *out, size_t capacity) {
    if (capacity == 0) return -1;
    size_t length = 0;
    while (length + 1 < capacity) {
        size_t chunk = capacity - 1 - length;
        if (chunk > 512) chunk = 512;
        ssize_t got;
        do {
            got = pread(fd, out + length, chunk, (off_t)(offset + length));
        } while (got < 0 && errno == EINTR);
        if (got <= 0) break;
        char *end = memchr(out + length, 0, (size_t)got);
        if (end != NULL) return (long)(end - out);
        length += (size_t)got;
    }
    out[length] = 0;
    return length > 0 ? (long)length : -1;
}
