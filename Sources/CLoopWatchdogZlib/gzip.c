#include "CLoopWatchdogZlib.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct lwd_gunzip {
    z_stream stream;
    int member_ended;  // the last inflate call ended a member (Z_STREAM_END)
};

lwd_gunzip *lwd_gunzip_create(void) {
    lwd_gunzip *inflater = calloc(1, sizeof(*inflater));
    if (inflater == NULL) return NULL;
    // 16 + MAX_WBITS: a gzip header and trailer, not a zlib one.
    if (inflateInit2(&inflater->stream, 16 + MAX_WBITS) != Z_OK) {
        free(inflater);
        return NULL;
    }
    inflater->member_ended = 1;  // nothing read yet: an empty input is not truncated
    return inflater;
}

ptrdiff_t lwd_gunzip_inflate(lwd_gunzip *inflater, const uint8_t *input, size_t input_length, size_t *consumed,
                             uint8_t *output, size_t output_capacity) {
    z_stream *stream = &inflater->stream;
    if (input_length > UINT32_MAX) input_length = UINT32_MAX;
    if (output_capacity > UINT32_MAX) output_capacity = UINT32_MAX;
    stream->next_in = (Bytef *)input;
    stream->avail_in = (uInt)input_length;
    stream->next_out = output;
    stream->avail_out = (uInt)output_capacity;
    *consumed = 0;
    if (input_length > 0) inflater->member_ended = 0;
    int result = inflate(stream, Z_NO_FLUSH);
    *consumed = input_length - stream->avail_in;
    ptrdiff_t written = (ptrdiff_t)(output_capacity - stream->avail_out);
    if (result == Z_STREAM_END) {
        // A gzip file may hold several members one after another: go on with the next.
        inflater->member_ended = 1;
        inflateReset(stream);
        return written;
    }
    // Z_BUF_ERROR: no progress was possible without more input or room; not an error.
    if (result == Z_OK || result == Z_BUF_ERROR) return written;
    return -1;  // Z_DATA_ERROR, Z_MEM_ERROR, Z_NEED_DICT: not a gzip stream we can read
}

int lwd_gunzip_at_member_end(const lwd_gunzip *inflater) { return inflater->member_ended; }

void lwd_gunzip_destroy(lwd_gunzip *inflater) {
    if (inflater == NULL) return;
    inflateEnd(&inflater->stream);
    free(inflater);
}

size_t lwd_gzip_bound(size_t length) {
    // deflateBound for the default settings plus the gzip header and trailer (18 bytes).
    return length + length / 1000 + 64 + 18;
}

ptrdiff_t lwd_gzip(const uint8_t *input, size_t length, uint8_t *output, size_t capacity) {
    z_stream stream;
    memset(&stream, 0, sizeof(stream));
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return -1;
    }
    stream.next_in = (Bytef *)input;
    stream.next_out = output;
    size_t remaining_in = length, remaining_out = capacity;
    int result;
    do {
        uInt chunk_in = remaining_in > UINT32_MAX ? UINT32_MAX : (uInt)remaining_in;
        uInt chunk_out = remaining_out > UINT32_MAX ? UINT32_MAX : (uInt)remaining_out;
        stream.avail_in = chunk_in;
        stream.avail_out = chunk_out;
        result = deflate(&stream, chunk_in == remaining_in ? Z_FINISH : Z_NO_FLUSH);
        remaining_in -= chunk_in - stream.avail_in;
        remaining_out -= chunk_out - stream.avail_out;
        if (result == Z_STREAM_ERROR || (result == Z_BUF_ERROR && remaining_out == 0)) {
            deflateEnd(&stream);
            return -1;
        }
    } while (result != Z_STREAM_END);
    deflateEnd(&stream);
    return (ptrdiff_t)(capacity - remaining_out);
}
