/*
 * Comparing short texts whole: when BYTES_PAD bytes can be read from
 * the start of each, whatever their lengths, they are compared 32 bytes
 * at a time, with no branch on the length and no call.
 */
#ifndef BYTES_H
#define BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define BYTES_PAD 32

/* Whether the first N bytes (N <= BYTES_PAD) of A and B are the same;
 * BYTES_PAD bytes are read from each. */
static inline int
bytes_eq_padded(const char *a, const char *b, size_t n)
{
#ifdef __SSE2__
	__m128i a0 = _mm_loadu_si128((const __m128i *)(const void *)a);
	__m128i a1 = _mm_loadu_si128((const __m128i *)(const void *)(a + 16));
	__m128i b0 = _mm_loadu_si128((const __m128i *)(const void *)b);
	__m128i b1 = _mm_loadu_si128((const __m128i *)(const void *)(b + 16));
	uint32_t eq = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a0, b0)) |
	    (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a1, b1)) << 16;
	uint32_t want = n >= 32 ? UINT32_MAX : ((uint32_t)1 << n) - 1;

	return (eq & want) == want;
#else
	return memcmp(a, b, n) == 0;
#endif
}

#endif
