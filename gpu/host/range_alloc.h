/*
 * A first-fit allocator of address ranges with coalescing free lists: VRAM
 * partitions and the daemon's own VRAM pages come from two of these.  Not
 * thread safe; callers hold the host lock.
 */
#ifndef GPUVM_HOST_RANGE_ALLOC_H
#define GPUVM_HOST_RANGE_ALLOC_H

#include <stdint.h>

struct range_node;

struct host_ranges {
	struct range_node *free;    /* sorted by base, never adjacent */
	uint64_t base, size;
	uint64_t free_bytes;
};

int host_ranges_init(struct host_ranges *r, uint64_t base, uint64_t size);
void host_ranges_fini(struct host_ranges *r);
/* align: power of two.  Returns 0 and *out, or -ENOMEM. */
int host_ranges_alloc(struct host_ranges *r, uint64_t size, uint64_t align, uint64_t *out);
/* Return [base, base + size); -EINVAL if it was not allocated. */
int host_ranges_free(struct host_ranges *r, uint64_t base, uint64_t size);
uint64_t host_ranges_largest(const struct host_ranges *r);

#endif
