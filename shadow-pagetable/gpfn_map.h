/*
 * A hash map from guest page frame numbers to a 64-bit value: open
 * addressing with linear probing and backward-shift deletion, so lookups on
 * the trap path touch one or two cache lines and allocate nothing.
 */
#ifndef GPUVM_GPFN_MAP_H
#define GPUVM_GPFN_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gpfn_slot {
	uint64_t key;       /* gpfn + 1; 0 = empty */
	uint64_t val;
};

struct gpfn_map {
	struct gpfn_slot *slot;
	size_t cap;         /* power of two */
	size_t used;
};

int gpfn_map_init(struct gpfn_map *m);
void gpfn_map_fini(struct gpfn_map *m);
void gpfn_map_clear(struct gpfn_map *m);
/* Pointer to the value of gpfn, or NULL. */
uint64_t *gpfn_map_find(const struct gpfn_map *m, uint64_t gpfn);
/* Pointer to the value of gpfn, inserting 0 if absent; NULL on ENOMEM. */
uint64_t *gpfn_map_get(struct gpfn_map *m, uint64_t gpfn);
void gpfn_map_del(struct gpfn_map *m, uint64_t gpfn);
/* Iterate: *iter starts at 0; returns false at the end. */
bool gpfn_map_next(const struct gpfn_map *m, size_t *iter, uint64_t *gpfn, uint64_t *val);

#endif
