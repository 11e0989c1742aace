/*
 * A first-fit allocator of address ranges (VRAM, GPU virtual address space,
 * BAR space, the BAR3 kernel heap).  Free extents are kept sorted by base and
 * merged on free.  Not thread-safe: the owner locks.
 */
#ifndef GPUVM_RANGE_ALLOC_H
#define GPUVM_RANGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

struct range_extent {
	uint64_t base, size;
};

struct range_alloc {
	struct range_extent *free;
	size_t n, cap;
	uint64_t total;     /* bytes managed */
	uint64_t in_use;    /* bytes handed out */
};

/* 0, or -ENOMEM (host memory). */
int range_init(struct range_alloc *r, uint64_t base, uint64_t size);
void range_fini(struct range_alloc *r);
/*
 * Take size bytes aligned to align (a power of two).  0, -ENOSPC when no
 * free extent fits, -ENOMEM when host memory for bookkeeping ran out.
 */
int range_take(struct range_alloc *r, uint64_t size, uint64_t align, uint64_t *out);
/* Give a range back.  0, or -ENOMEM (the range is then lost, not corrupted). */
int range_give(struct range_alloc *r, uint64_t base, uint64_t size);
/*
 * Take the given range [base, base + size) out of the free extents, wholly
 * or in the parts that are free.  1 when all of it was free, 0 when only
 * part or none of it was, -ENOMEM (nothing changed) when splitting an
 * extent needed bookkeeping memory.  Used as a set ("which bytes are still
 * known to be zero"), not as an allocator.
 */
int range_claim(struct range_alloc *r, uint64_t base, uint64_t size);

#endif
