/*
 * First-fit range allocator: see range_alloc.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "range_alloc.h"

int range_init(struct range_alloc *r, uint64_t base, uint64_t size)
{
	memset(r, 0, sizeof(*r));
	r->cap = 16;
	r->free = calloc(r->cap, sizeof(*r->free));
	if (!r->free)
		return -ENOMEM;
	if (size) {
		r->free[0] = (struct range_extent){ base, size };
		r->n = 1;
	}
	r->total = size;
	return 0;
}

void range_fini(struct range_alloc *r)
{
	free(r->free);
	memset(r, 0, sizeof(*r));
}

/* Make room for one more extent. */
static int range_grow(struct range_alloc *r)
{
	struct range_extent *bigger;

	if (r->n < r->cap)
		return 0;
	bigger = realloc(r->free, r->cap * 2 * sizeof(*bigger));
	if (!bigger)
		return -ENOMEM;
	r->free = bigger;
	r->cap *= 2;
	return 0;
}

static void range_insert_at(struct range_alloc *r, size_t i, uint64_t base, uint64_t size)
{
	memmove(&r->free[i + 1], &r->free[i], (r->n - i) * sizeof(*r->free));
	r->free[i] = (struct range_extent){ base, size };
	r->n++;
}

static void range_remove_at(struct range_alloc *r, size_t i)
{
	memmove(&r->free[i], &r->free[i + 1], (r->n - i - 1) * sizeof(*r->free));
	r->n--;
}

int range_take(struct range_alloc *r, uint64_t size, uint64_t align, uint64_t *out)
{
	if (!size || !align || (align & (align - 1)))
		return -EINVAL;
	for (size_t i = 0; i < r->n; i++) {
		struct range_extent *e = &r->free[i];
		uint64_t start = (e->base + align - 1) & ~(align - 1);
		uint64_t head = start - e->base;
		uint64_t tail_base = start + size;
		uint64_t end = e->base + e->size;

		if (start < e->base || head > e->size || size > e->size - head)
			continue;
		/* Splitting an extent in two needs one more slot. */
		if (head && tail_base < end && range_grow(r))
			return -ENOMEM;
		e = &r->free[i];
		if (head && tail_base < end) {
			e->size = head;
			range_insert_at(r, i + 1, tail_base, end - tail_base);
		} else if (head) {
			e->size = head;
		} else if (tail_base < end) {
			e->base = tail_base;
			e->size = end - tail_base;
		} else {
			range_remove_at(r, i);
		}
		r->in_use += size;
		*out = start;
		return 0;
	}
	return -ENOSPC;
}

int range_give(struct range_alloc *r, uint64_t base, uint64_t size)
{
	size_t i = 0;

	while (i < r->n && r->free[i].base < base)
		i++;
	/* Merge with the extent before and/or after when they touch. */
	if (i > 0 && r->free[i - 1].base + r->free[i - 1].size == base) {
		r->free[i - 1].size += size;
		if (i < r->n && base + size == r->free[i].base) {
			r->free[i - 1].size += r->free[i].size;
			range_remove_at(r, i);
		}
	} else if (i < r->n && base + size == r->free[i].base) {
		r->free[i].base = base;
		r->free[i].size += size;
	} else {
		if (range_grow(r))
			return -ENOMEM;
		range_insert_at(r, i, base, size);
	}
	r->in_use -= size;
	return 0;
}

/* Cut [base, end) out of extent i; the caller made room for a split. */
static void range_cut(struct range_alloc *r, size_t i, uint64_t base, uint64_t end)
{
	struct range_extent *e = &r->free[i];
	uint64_t e_end = e->base + e->size;

	if (e->base < base && end < e_end) {
		e->size = base - e->base;
		range_insert_at(r, i + 1, end, e_end - end);
	} else if (e->base < base) {
		e->size = base - e->base;
	} else if (end < e_end) {
		e->size = e_end - end;
		e->base = end;
	} else {
		range_remove_at(r, i);
	}
}

int range_claim(struct range_alloc *r, uint64_t base, uint64_t size)
{
	uint64_t end = base + size, freed = 0;
	size_t i = 0;

	if (!size || end < base)
		return 0;
	if (range_grow(r))
		return -ENOMEM;
	while (i < r->n && r->free[i].base + r->free[i].size <= base)
		i++;
	while (i < r->n && r->free[i].base < end) {
		struct range_extent e = r->free[i];
		uint64_t lo = e.base > base ? e.base : base;
		uint64_t hi = e.base + e.size < end ? e.base + e.size : end;

		freed += hi - lo;
		range_cut(r, i, lo, hi);
		/* Only a cut from the middle leaves a piece at i that still lies
		 * before the range's end; it ends at lo, so step past it. */
		if (i < r->n && r->free[i].base < lo)
			i++;
	}
	r->in_use += freed;
	return freed == size;
}
