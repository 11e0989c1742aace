/*
 * The guest library's range allocator (guest/lib/range_alloc.c): first-fit
 * takes with alignment, merging gives, and range_claim, which the driver
 * uses as the set of heap bytes still known to be zero.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../guest/lib/range_alloc.h"

static void assert_extents(const struct range_alloc *r, size_t n, const uint64_t *base_size)
{
	assert_int_equal(r->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r->free[i].base, base_size[2 * i]);
		assert_int_equal(r->free[i].size, base_size[2 * i + 1]);
	}
}

static void test_take_give_merge(void **state)
{
	struct range_alloc r;
	uint64_t a, b, c;

	(void)state;
	assert_int_equal(range_init(&r, 0x1000, 0x10000), 0);
	assert_int_equal(range_take(&r, 0x1000, 0x1000, &a), 0);
	assert_int_equal(range_take(&r, 0x1000, 0x4000, &b), 0);
	assert_int_equal(b, 0x4000);                    /* aligned past the gap */
	assert_int_equal(range_take(&r, 0x1000, 0x1000, &c), 0);
	assert_int_equal(c, 0x2000);                    /* first fit: the gap */
	assert_int_equal(range_take(&r, 0x20000, 0x1000, &c), -ENOSPC);
	assert_int_equal(range_take(&r, 0x1000, 3, &c), -EINVAL);
	assert_int_equal(range_give(&r, 0x4000, 0x1000), 0);
	assert_int_equal(range_give(&r, 0x2000, 0x1000), 0);
	assert_int_equal(range_give(&r, 0x1000, 0x1000), 0);
	assert_extents(&r, 1, (const uint64_t[]){ 0x1000, 0x10000 });
	assert_int_equal(r.in_use, 0);
	range_fini(&r);
}

static void test_claim_whole_and_parts(void **state)
{
	struct range_alloc r;

	(void)state;
	assert_int_equal(range_init(&r, 0, 0x10000), 0);
	/* From the middle of the one extent: all of it was free. */
	assert_int_equal(range_claim(&r, 0x4000, 0x2000), 1);
	assert_extents(&r, 2, (const uint64_t[]){ 0, 0x4000, 0x6000, 0xa000 });
	/* Again: none of it is free now, nothing changes. */
	assert_int_equal(range_claim(&r, 0x4000, 0x2000), 0);
	assert_extents(&r, 2, (const uint64_t[]){ 0, 0x4000, 0x6000, 0xa000 });
	/* Across the hole: the free parts on both sides go, and it says "not all". */
	assert_int_equal(range_claim(&r, 0x3000, 0x4000), 0);
	assert_extents(&r, 2, (const uint64_t[]){ 0, 0x3000, 0x7000, 0x9000 });
	/* Exactly an extent's start, then exactly its end. */
	assert_int_equal(range_claim(&r, 0, 0x1000), 1);
	assert_int_equal(range_claim(&r, 0xf000, 0x1000), 1);
	assert_extents(&r, 2, (const uint64_t[]){ 0x1000, 0x2000, 0x7000, 0x8000 });
	/* A whole extent, and one spanning several. */
	assert_int_equal(range_claim(&r, 0x1000, 0x2000), 1);
	assert_extents(&r, 1, (const uint64_t[]){ 0x7000, 0x8000 });
	assert_int_equal(range_claim(&r, 0, 0x100000), 0);
	assert_int_equal(r.n, 0);
	/* Nothing, and a range that wraps: no claim. */
	assert_int_equal(range_claim(&r, 0x1000, 0), 0);
	assert_int_equal(range_claim(&r, UINT64_MAX - 0xfff, 0x2000), 0);
	range_fini(&r);
}

/* A claimed byte is never claimed twice, whatever the order of claims. */
static void test_claim_never_twice(void **state)
{
	struct range_alloc r;
	unsigned char seen[64] = { 0 };
	unsigned seed = 12345;

	(void)state;
	assert_int_equal(range_init(&r, 0, 64), 0);
	for (int i = 0; i < 500; i++) {
		uint64_t base, size;
		unsigned claimed_before = 0, after = 0;
		int whole;

		seed = seed * 1103515245u + 12345u;
		base = (seed >> 8) % 64;
		size = 1 + (seed >> 20) % 8;
		if (base + size > 64)
			size = 64 - base;
		for (uint64_t k = base; k < base + size; k++)
			claimed_before += seen[k];
		whole = range_claim(&r, base, size);
		/* "All of it was free" exactly when no byte of it was claimed before. */
		assert_int_equal(whole, claimed_before == 0);
		for (uint64_t k = base; k < base + size; k++)
			seen[k] = 1;
		for (unsigned k = 0; k < 64; k++)
			after += seen[k];
		assert_int_equal(r.in_use, after);
	}
	range_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_give_merge),
		cmocka_unit_test(test_claim_whole_and_parts),
		cmocka_unit_test(test_claim_never_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
