/* gpfn -> value hash map (see gpfn_map.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gpfn_map.h"

#define GPFN_MAP_MIN_CAP 64

static size_t gpfn_hash(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

int gpfn_map_init(struct gpfn_map *m)
{
	m->cap = GPFN_MAP_MIN_CAP;
	m->used = 0;
	m->slot = calloc(m->cap, sizeof(*m->slot));
	return m->slot ? 0 : -ENOMEM;
}

void gpfn_map_fini(struct gpfn_map *m)
{
	free(m->slot);
	m->slot = NULL;
	m->cap = m->used = 0;
}

void gpfn_map_clear(struct gpfn_map *m)
{
	memset(m->slot, 0, m->cap * sizeof(*m->slot));
	m->used = 0;
}

uint64_t *gpfn_map_find(const struct gpfn_map *m, uint64_t gpfn)
{
	size_t i = gpfn_hash(gpfn + 1, m->cap);

	for (;; i = (i + 1) & (m->cap - 1)) {
		if (m->slot[i].key == gpfn + 1)
			return &m->slot[i].val;
		if (!m->slot[i].key)
			return NULL;
	}
}

static int gpfn_map_grow(struct gpfn_map *m)
{
	struct gpfn_map bigger = { .cap = m->cap * 2 };

	bigger.slot = calloc(bigger.cap, sizeof(*bigger.slot));
	if (!bigger.slot)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slot[i].key) {
			size_t j = gpfn_hash(m->slot[i].key, bigger.cap);

			while (bigger.slot[j].key)
				j = (j + 1) & (bigger.cap - 1);
			bigger.slot[j] = m->slot[i];
			bigger.used++;
		}
	}
	free(m->slot);
	*m = bigger;
	return 0;
}

uint64_t *gpfn_map_get(struct gpfn_map *m, uint64_t gpfn)
{
	uint64_t *v = gpfn_map_find(m, gpfn);
	size_t i;

	if (v)
		return v;
	if ((m->used + 1) * 4 > m->cap * 3 && gpfn_map_grow(m))
		return NULL;
	i = gpfn_hash(gpfn + 1, m->cap);
	while (m->slot[i].key)
		i = (i + 1) & (m->cap - 1);
	m->slot[i].key = gpfn + 1;
	m->slot[i].val = 0;
	m->used++;
	return &m->slot[i].val;
}

void gpfn_map_del(struct gpfn_map *m, uint64_t gpfn)
{
	uint64_t *v = gpfn_map_find(m, gpfn);
	size_t hole, i;

	if (!v)
		return;
	hole = (size_t)((struct gpfn_slot *)(void *)((uint8_t *)v - offsetof(struct gpfn_slot, val)) - m->slot);
	m->slot[hole].key = 0;
	m->used--;
	/* Shift later members of the probe run back so lookups still find them. */
	for (i = (hole + 1) & (m->cap - 1); m->slot[i].key; i = (i + 1) & (m->cap - 1)) {
		size_t home = gpfn_hash(m->slot[i].key, m->cap);
		bool movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);

		if (movable) {
			m->slot[hole] = m->slot[i];
			m->slot[i].key = 0;
			hole = i;
		}
	}
}

bool gpfn_map_next(const struct gpfn_map *m, size_t *iter, uint64_t *gpfn, uint64_t *val)
{
	for (; *iter < m->cap; (*iter)++) {
		if (m->slot[*iter].key) {
			*gpfn = m->slot[*iter].key - 1;
			*val = m->slot[*iter].val;
			(*iter)++;
			return true;
		}
	}
	return false;
}
