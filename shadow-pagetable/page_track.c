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
	t->hook = NULL;
	t->hook_ctx = NULL;
	return gpfn_map_init(&t->map);
}

void page_track_set_hook(struct page_track *t, page_track_hook *hook, void *ctx)
{
	t->hook = hook;
	t->hook_ctx = ctx;
}

void page_track_fini(struct page_track *t)
{
	gpfn_map_fini(&t->map);
}

void page_track_reset(struct page_track *t)
{
	gpfn_map_clear(&t->map);
}

int page_track_get(struct page_track *t, uint64_t gpfn, enum page_kind kind)
{
	uint64_t *v = gpfn_map_get(&t->map, gpfn);
	bool newly;

	if (!v)
		return -ENOMEM;
	if (count_of(*v, kind) == COUNT_MASK)
		return -EOVERFLOW;
	newly = !*v;
	*v += 1ull << (kind * COUNT_BITS);
	if (newly && t->hook)
		t->hook(t->hook_ctx, gpfn);
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
		if (t->hook)
			t->hook(t->hook_ctx, gpfn);
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
