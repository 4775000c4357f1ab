/*
 * Sets of small numbers as bits of 64-bit words, which the caller
 * allocates (zeroed, n / 64 + 1 words for numbers below n).
 */
#ifndef BITSET_H
#define BITSET_H

#include <stddef.h>
#include <stdint.h>

static inline int
bitset_get(const uint64_t *set, size_t i)
{
	return (int)(set[i / 64] >> (i % 64) & 1);
}

static inline void
bitset_set(uint64_t *set, size_t i)
{
	set[i / 64] |= (uint64_t)1 << (i % 64);
}

static inline void
bitset_clear(uint64_t *set, size_t i)
{
	set[i / 64] &= ~((uint64_t)1 << (i % 64));
}

#endif
