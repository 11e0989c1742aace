/* First-fit range allocator with coalescing (see range_alloc.h). */
#include <errno.h>
#include <stdlib.h>

#include "range_alloc.h"

struct range_node {
	uint64_t base, size;
	struct range_node *next;
};

static struct range_node *node_new(uint64_t base, uint64_t size, struct range_node *next)
{
	struct range_node *n = malloc(sizeof(*n));

	if (n) {
		n->base = base;
		n->size = size;
		n->next = next;
	}
	return n;
}

int host_ranges_init(struct host_ranges *r, uint64_t base, uint64_t size)
{
	r->base = base;
	r->size = size;
	r->free_bytes = size;
	r->free = size ? node_new(base, size, NULL) : NULL;
	return size && !r->free ? -ENOMEM : 0;
}

void host_ranges_fini(struct host_ranges *r)
{
	while (r->free) {
		struct range_node *n = r->free;

		r->free = n->next;
		free(n);
	}
}

int host_ranges_alloc(struct host_ranges *r, uint64_t size, uint64_t align, uint64_t *out)
{
	for (struct range_node **pp = &r->free; *pp; pp = &(*pp)->next) {
		struct range_node *n = *pp;
		uint64_t start = (n->base + align - 1) & ~(align - 1);
		uint64_t head = start - n->base;

		if (!size || start < n->base || head > n->size || n->size - head < size)
			continue;
		if (head) {
			/* Keep the unaligned head as its own free node. */
			struct range_node *h = node_new(n->base, head, n);

			if (!h)
				return -ENOMEM;
			*pp = h;
			pp = &h->next;
			n->base += head;
			n->size -= head;
		}
		n->base += size;
		n->size -= size;
		if (!n->size) {
			*pp = n->next;
			free(n);
		}
		r->free_bytes -= size;
		*out = start;
		return 0;
	}
	return -ENOMEM;
}

static void merge_next(struct range_node *n)
{
	struct range_node *next = n->next;

	if (next && n->base + n->size == next->base) {
		n->size += next->size;
		n->next = next->next;
		free(next);
	}
}

int host_ranges_free(struct host_ranges *r, uint64_t base, uint64_t size)
{
	struct range_node **pp = &r->free, *prev = NULL, *n;

	if (!size || base < r->base || base + size > r->base + r->size || base + size < base)
		return -EINVAL;
	while (*pp && (*pp)->base < base) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	/* Overlap with a free neighbour means a double free. */
	if ((prev && prev->base + prev->size > base) || (*pp && base + size > (*pp)->base))
		return -EINVAL;
	n = node_new(base, size, *pp);
	if (!n)
		return -ENOMEM;
	*pp = n;
	merge_next(n);
	if (prev)
		merge_next(prev);
	r->free_bytes += size;
	return 0;
}

uint64_t host_ranges_largest(const struct host_ranges *r)
{
	uint64_t best = 0;

	for (const struct range_node *n = r->free; n; n = n->next)
		if (n->size > best)
			best = n->size;
	return best;
}
