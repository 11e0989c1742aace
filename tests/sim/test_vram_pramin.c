/*
 * gpusim PRAMIN window (0x1700 + 0x700000) and the VRAM backing (vram_fd).
 */
#include "util.h"

#include <errno.h>

struct fixture {
	struct tdev *t;
	uint8_t *map;       /* the VRAM backing, mmapped shared */
	uint64_t size;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->t = tdev_new(0);
	f->size = f->t->vram_size;
	f->map = vram_map(f->t);
	if (!f->map)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vram_unmap(f->map, f->size);
	tdev_free(f->t);
	free(f);
	return 0;
}

static uint32_t map32(struct fixture *f, uint64_t phys)
{
	uint32_t v;
	memcpy(&v, f->map + phys, 4);
	return v;
}

static void test_vram_fd_size(void **state)
{
	struct fixture *f = *state;
	struct gpu_hw *hw = f->t->hw;
	assert_int_equal(hw->ops->vram_size(hw), (uint64_t)T_VRAM_MIB << 20);
	/* The pieces cover VRAM exactly; beyond it is -EINVAL. */
	uint64_t total = 0;
	while (total < f->size) {
		uint64_t off = ~0ull, len = 0;
		int fd = hw->ops->vram_fd(hw, total, &off, &len);
		assert_true(fd >= 0);
		assert_true(len > 0 && len <= f->size - total);
		assert_true(off != ~0ull);
		total += len;
	}
	assert_int_equal(total, f->size);
	uint64_t off, len;
	assert_int_equal(hw->ops->vram_fd(hw, f->size, &off, &len), -EINVAL);
	/* An address inside a piece: the offset follows the address. */
	uint64_t off0, len0, off1, len1;
	int fd0 = hw->ops->vram_fd(hw, 0x10000, &off0, &len0);
	int fd1 = hw->ops->vram_fd(hw, 0x11000, &off1, &len1);
	assert_true(fd0 >= 0);
	if (fd0 == fd1) {
		assert_int_equal(off1, off0 + 0x1000);
		assert_int_equal(len1, len0 - 0x1000);
	}
}

static void test_window_read_write(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	wr32(t, NV_PBUS_PRAMIN_BASE, 0);
	assert_int_equal(rd32(t, NV_PBUS_PRAMIN_BASE) & NV_PBUS_PRAMIN_ADDR_MASK, 0);
	wr32(t, NV_PRAMIN_WINDOW + 0x0, 0x11223344);
	wr32(t, NV_PRAMIN_WINDOW + 0x1234, 0xa5a5a5a5);
	wr32(t, NV_PRAMIN_WINDOW + NV_PRAMIN_WINDOW_SIZE - 4, 0xcafef00d);
	assert_int_equal(rd32(t, NV_PRAMIN_WINDOW + 0x0), 0x11223344);
	assert_int_equal(rd32(t, NV_PRAMIN_WINDOW + 0x1234), 0xa5a5a5a5);
	assert_int_equal(rd32(t, NV_PRAMIN_WINDOW + NV_PRAMIN_WINDOW_SIZE - 4), 0xcafef00d);
	/* PRAMIN writes land in the backing, untranslated. */
	assert_int_equal(map32(f, 0x0), 0x11223344);
	assert_int_equal(map32(f, 0x1234), 0xa5a5a5a5);
	assert_int_equal(map32(f, NV_PRAMIN_WINDOW_SIZE - 4), 0xcafef00d);
	/* And backing writes are visible through PRAMIN. */
	uint32_t v = 0x5eed1234;
	memcpy(f->map + 0x88, &v, 4);
	assert_int_equal(rd32(t, NV_PRAMIN_WINDOW + 0x88), 0x5eed1234);
	/* The window holds 32-bit little-endian words. */
	assert_int_equal(f->map[0], 0x44);
	assert_int_equal(f->map[3], 0x11);
}

static void test_window_base_moves(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t p = 3 * T_MIB + 0x20000 + 0x40;   /* 64 KiB steps from the base */
	uint32_t v = 0x0badf00d;
	memcpy(f->map + p, &v, 4);

	wr32(t, NV_PBUS_PRAMIN_BASE, (uint32_t)(3 * T_MIB >> 16));
	assert_int_equal(rd32(t, NV_PRAMIN_WINDOW + 0x20040), 0x0badf00d);
	/* A 64 KiB step (pscnv) moves the window by 64 KiB. */
	wr32(t, NV_PBUS_PRAMIN_BASE, (uint32_t)((3 * T_MIB + 0x10000) >> 16));
	assert_int_equal(rd32(t, NV_PBUS_PRAMIN_BASE) & NV_PBUS_PRAMIN_ADDR_MASK,
			 (uint32_t)((3 * T_MIB + 0x10000) >> 16));
	assert_int_equal(rd32(t, NV_PRAMIN_WINDOW + 0x10040), 0x0badf00d);
	wr32(t, NV_PRAMIN_WINDOW + 0x10044, 0x600df00d);
	assert_int_equal(map32(f, p + 4), 0x600df00d);
	/* The last MiB of VRAM. */
	uint32_t last = (uint32_t)((f->size - T_MIB) >> 16);
	wr32(t, NV_PBUS_PRAMIN_BASE, last);
	wr32(t, NV_PRAMIN_WINDOW + NV_PRAMIN_WINDOW_SIZE - 4, 0x1a57);
	assert_int_equal(map32(f, f->size - 4), 0x1a57);
	pramin_forget(t);
}

static void test_beyond_vram(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t size = f->size;
	memset(f->map, 0x77, 0x1000);       /* a wrap to 0 would show here */
	memset(f->map + size - 0x1000, 0x66, 0x1000);

	struct gpusim_stats s0 = tdev_stats(t);
	/* Window entirely past the end. */
	wr32(t, NV_PBUS_PRAMIN_BASE, (uint32_t)(size >> 16));
	assert_int_equal(rd32(t, NV_PRAMIN_WINDOW), 0);
	wr32(t, NV_PRAMIN_WINDOW + 0x10, 0xdeadbeef);
	assert_int_equal(rd32(t, NV_PRAMIN_WINDOW + 0x10), 0);
	struct gpusim_stats s1 = tdev_stats(t);
	assert_int_equal(s1.bad_pramin, s0.bad_pramin + 3);

	/* Window straddling the end: the first half works, the rest does not. */
	wr32(t, NV_PBUS_PRAMIN_BASE, (uint32_t)((size - T_MIB / 2) >> 16));
	assert_int_equal(rd32(t, NV_PRAMIN_WINDOW + T_MIB / 2 - 4), 0x66666666);
	assert_int_equal(rd32(t, NV_PRAMIN_WINDOW + T_MIB / 2), 0);
	wr32(t, NV_PRAMIN_WINDOW + T_MIB / 2, 0xdeadbeef);
	struct gpusim_stats s2 = tdev_stats(t);
	assert_int_equal(s2.bad_pramin, s1.bad_pramin + 2);

	/* Far beyond (the full 24-bit base field: 1 TiB). */
	wr32(t, NV_PBUS_PRAMIN_BASE, 0x00ffffff);
	assert_int_equal(rd32(t, NV_PRAMIN_WINDOW + NV_PRAMIN_WINDOW_SIZE - 4), 0);
	wr32(t, NV_PRAMIN_WINDOW + NV_PRAMIN_WINDOW_SIZE - 4, 0xdeadbeef);

	for (unsigned i = 0; i < 0x1000; i++)
		assert_int_equal(f->map[i], 0x77);
	for (unsigned i = 0; i < 0x1000; i++)
		assert_int_equal(f->map[size - 0x1000 + i], 0x66);
	pramin_forget(t);
}

/* Targets other than VRAM (bits 24-25) reach nothing in gpusim. */
static void test_sysmem_target(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint32_t v = 0x13572468;
	memcpy(f->map + 0x100, &v, 4);
	for (uint32_t target = 2; target <= 3; target++) {
		struct gpusim_stats s0 = tdev_stats(t);
		wr32(t, NV_PBUS_PRAMIN_BASE, target << 24);
		assert_int_equal(rd32(t, NV_PRAMIN_WINDOW + 0x100), 0);
		wr32(t, NV_PRAMIN_WINDOW + 0x100, 0xdeadbeef);
		struct gpusim_stats s1 = tdev_stats(t);
		assert_int_equal(s1.bad_pramin, s0.bad_pramin + 2);
		assert_int_equal(map32(f, 0x100), 0x13572468);
	}
	wr32(t, NV_PBUS_PRAMIN_BASE, 0);
	assert_int_equal(rd32(t, NV_PRAMIN_WINDOW + 0x100), 0x13572468);
	pramin_forget(t);
}

/* The helper's byte-granular access over window boundaries. */
static void test_helper_unaligned(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint8_t buf[64], back[64];
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	uint64_t p = 5 * T_MIB - 29;     /* crosses a 1 MiB window move */
	vram_write(t, p, buf, sizeof(buf));
	assert_memory_equal(f->map + p, buf, sizeof(buf));
	vram_read(t, p, back, sizeof(back));
	assert_memory_equal(back, buf, sizeof(buf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vram_fd_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_base_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_beyond_vram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysmem_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_unaligned, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
