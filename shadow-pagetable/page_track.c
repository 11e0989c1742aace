/* Guest page tracking (see page_track.h). */
#include <errno.h>

#include "page_track.h"

#define COUNT_BITS 16
#define COUNT_MASK ((1ull << COUNT_BITS) - 1)

static unsigned count_of(uint64_t v, enum page_kind kind)
{
	return (unsigned)((v >> (kind * COUNT_BITS)) & COUNT_MASK);
}

int page_track_init(struct page_track *t)
{
	t->changes = 0;
	return gpfn_map_init(&t->map);
}

void page_track_fini(struct page_track *t)
{
	gpfn_map_fini(&t->map);
}

void page_track_reset(struct page_track *t)
{
	gpfn_map_clear(&t->map);
	t->changes++;
}

int page_track_get(struct page_track *t, uint64_t gpfn, enum page_kind kind)
{
	uint64_t *v = gpfn_map_get(&t->map, gpfn);

	if (!v)
		return -ENOMEM;
	if (count_of(*v, kind) == COUNT_MASK)
		return -EOVERFLOW;
	if (!*v)
		t->changes++;
	*v += 1ull << (kind * COUNT_BITS);
	return 0;
}

void page_track_put(struct page_track *t, uint64_t gpfn, enum page_kind kind)
{
	uint64_t *v = gpfn_map_find(&t->map, gpfn);

	if (!v || !count_of(*v, kind))
		return;
	*v -= 1ull << (kind * COUNT_BITS);
	if (!*v) {
		gpfn_map_del(&t->map, gpfn);
		t->changes++;
	}
}

unsigned page_track_kinds(const struct page_track *t, uint64_t gpfn)
{
	const uint64_t *v = gpfn_map_find(&t->map, gpfn);
	unsigned kinds = 0;

	for (unsigned k = 0; v && k < PAGE_KINDS; k++)
		if (count_of(*v, (enum page_kind)k))
			kinds |= 1u << k;
	return kinds;
}
