// gzip for `loop-watchdog report`: reading gzip-compressed stall logs as a stream, and
// writing gzip-compressed pprof profiles. A shim because zlib's init functions are macros
// that Swift cannot import (deflateInit2, inflateInit2); it can go once a Swift package on
// the mirror offers gzip without a C dependency.
#ifndef CLOOPWATCHDOG_ZLIB_H
#define CLOOPWATCHDOG_ZLIB_H

#include <stddef.h>
#include <stdint.h>

/// An inflater for gzip streams (concatenated members too).
typedef struct lwd_gunzip lwd_gunzip;

/// A new inflater, or NULL when out of memory.
lwd_gunzip *lwd_gunzip_create(void);

/// Feeds `input_length` bytes; writes at most `output_capacity` bytes of output. Sets
/// `*consumed` to the input bytes used and returns the output bytes written (0 with input
/// left means: call again with room), or -1 on corrupt data. Call again with the rest of the
/// input until it is all consumed.
ptrdiff_t lwd_gunzip_inflate(lwd_gunzip *inflater, const uint8_t *input, size_t input_length, size_t *consumed,
                             uint8_t *output, size_t output_capacity);

/// Whether the stream ended exactly at the end of a gzip member (a truncated file does not).
int lwd_gunzip_at_member_end(const lwd_gunzip *inflater);

void lwd_gunzip_destroy(lwd_gunzip *inflater);

/// Compresses `length` bytes into a gzip member written to `output` (at most `capacity`
/// bytes; `lwd_gzip_bound` is always enough). Returns the bytes written, or -1.
ptrdiff_t lwd_gzip(const uint8_t *input, size_t length, uint8_t *output, size_t capacity);

/// An output size that `lwd_gzip` never exceeds for `length` input bytes.
size_t lwd_gzip_bound(size_t length);

#endif
