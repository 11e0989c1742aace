/*
 * gpusim BAR1/BAR3 apertures: binding to VMs, unbound BARs, sizes, ranges.
 */
#include "util.h"

#include <errno.h>
#include <stdint.h>

static void test_bar_sizes(void **state)
{
	struct tdev *t = *state;
	assert_int_equal(t->hw->ops->bar_size(t->hw, GPU_BAR1), GPUSIM_DEFAULT_BAR1);
	assert_int_equal(t->hw->ops->bar_size(t->hw, GPU_BAR3), GPUSIM_DEFAULT_BAR3);

	struct gpusim_config cfg = { .vram_size = 32ull << 20, .bar1_size = 64ull << 20,
				     .bar3_size = 8ull << 20 };
	struct tdev *t2 = tdev_new_cfg(&cfg);
	assert_int_equal(t2->hw->ops->bar_size(t2->hw, GPU_BAR1), 64ull << 20);
	assert_int_equal(t2->hw->ops->bar_size(t2->hw, GPU_BAR3), 8ull << 20);
	uint32_t v;
	assert_int_equal(gpu_bar_read(t2->hw, GPU_BAR1, (64ull << 20) - 4, &v, 4), -EFAULT);
	assert_int_equal(gpu_bar_read(t2->hw, GPU_BAR1, 64ull << 20, &v, 4), -EINVAL);
	tdev_free(t2);
}

static void test_unbound_bar_faults(void **state)
{
	struct tdev *t = *state;
	uint8_t buf[8];
	memset(buf, 0, sizeof(buf));
	wr32(t, NV_PFIFO_INTR, 0xffffffff);
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0x1000, buf, sizeof(buf)), -EFAULT);
	for (unsigned i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xff);
	assert_true(rd32(t, NV_PFIFO_FAULT_UNITS) & (1u << NV_FAULT_UNIT_BAR1));
	assert_true(tdev_fault(t, NV_FAULT_UNIT_BAR1).flags & NV_FAULT_FLAGS_VALID);
	assert_true(rd32(t, NV_PFIFO_INTR) & NV_PFIFO_INTR_VM_FAULT);

	assert_int_equal(gpu_bar_write(t->hw, GPU_BAR3, 0x2000, buf, 4), -EFAULT);
	assert_true(rd32(t, NV_PFIFO_FAULT_UNITS) & (1u << NV_FAULT_UNIT_BAR3));
	struct tfault f3 = tdev_fault(t, NV_FAULT_UNIT_BAR3);
	assert_true(f3.flags & NV_FAULT_FLAGS_VALID);
	assert_true(f3.flags & NV_FAULT_FLAGS_WRITE);
	assert_int_equal(f3.va_lo & ~0xfffu, 0x2000);

	/* Bind, then unbind again (0x1704 = 0). */
	struct tvm *vm = tvm_new(t);
	uint64_t p = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	vram_wr32(t, p, 0x600d600d);
	tvm_map(t, vm, 0, p, NV_SPAGE_SIZE, false);
	tdev_bind_bar(t, GPU_BAR1, vm, GPUSIM_DEFAULT_BAR1 - 1);
	assert_true(tvm_flush(t, vm));
	uint32_t v = 0;
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0, &v, 4), 0);
	assert_int_equal(v, 0x600d600d);
	wr32(t, NV_PBUS_BAR1_INST, 0);
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0, &v, 4), -EFAULT);
	assert_int_equal(v, 0xffffffff);
	tvm_free(vm);
}

/* BAR1 and BAR3 bound to different VMs translate independently. */
static void test_bar1_bar3_separate_vms(void **state)
{
	struct tdev *t = *state;
	struct tvm *vm1 = tvm_new(t), *vm3 = tvm_new(t);
	uint64_t a = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	uint64_t b = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	vram_wr32(t, a + 0x40, 0x1111aaaa);
	vram_wr32(t, b + 0x40, 0x3333bbbb);
	tvm_map(t, vm1, 0x4000, a, NV_SPAGE_SIZE, false);
	tvm_map(t, vm3, 0x4000, b, NV_SPAGE_SIZE, false);
	uint64_t i1 = tdev_bind_bar(t, GPU_BAR1, vm1, GPUSIM_DEFAULT_BAR1 - 1);
	uint64_t i3 = tdev_bind_bar(t, GPU_BAR3, vm3, GPUSIM_DEFAULT_BAR3 - 1);
	assert_int_equal(rd32(t, NV_PBUS_BAR1_INST), NV_PBUS_BAR_VM | (uint32_t)(i1 >> 12));
	assert_int_equal(rd32(t, NV_PBUS_BAR3_INST), NV_PBUS_BAR_VM | (uint32_t)(i3 >> 12));
	assert_true(tvm_flush(t, vm1));
	assert_true(tvm_flush(t, vm3));

	uint32_t v1 = 0, v3 = 0;
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0x4040, &v1, 4), 0);
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR3, 0x4040, &v3, 4), 0);
	assert_int_equal(v1, 0x1111aaaa);
	assert_int_equal(v3, 0x3333bbbb);

	uint32_t w = 0x3e3e3e3e;
	assert_int_equal(gpu_bar_write(t->hw, GPU_BAR3, 0x4080, &w, 4), 0);
	assert_int_equal(vram_rd32(t, b + 0x80), 0x3e3e3e3e);
	assert_int_equal(vram_rd32(t, a + 0x80), 0);

	/* A BAR3 fault is recorded for BAR3, not BAR1. */
	tdev_fault_clear(t, NV_FAULT_UNIT_BAR1);
	tdev_fault_clear(t, NV_FAULT_UNIT_BAR3);
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR3, 0x5000, &v3, 4), -EFAULT);
	assert_int_equal(rd32(t, NV_PFIFO_FAULT_UNITS) & (1u << NV_FAULT_UNIT_BAR1), 0);
	assert_true(rd32(t, NV_PFIFO_FAULT_UNITS) & (1u << NV_FAULT_UNIT_BAR3));
	assert_int_equal(tdev_fault(t, NV_FAULT_UNIT_BAR3).inst, (uint32_t)(i3 >> 12));

	/* Re-binding BAR1 to vm3 switches its translation. */
	tdev_bind_bar(t, GPU_BAR1, vm3, GPUSIM_DEFAULT_BAR1 - 1);
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 0x4040, &v1, 4), 0);
	assert_int_equal(v1, 0x3333bbbb);
	tvm_free(vm1);
	tvm_free(vm3);
}

static void test_out_of_aperture(void **state)
{
	struct tdev *t = *state;
	struct tvm *vm = tdev_bar1(t);
	(void)vm;
	uint8_t buf[16];
	uint64_t s1 = GPUSIM_DEFAULT_BAR1, s3 = GPUSIM_DEFAULT_BAR3;
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, s1, buf, 4), -EINVAL);
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, s1 - 2, buf, 4), -EINVAL);
	assert_int_equal(gpu_bar_write(t->hw, GPU_BAR1, s1 - 2, buf, 4), -EINVAL);
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR3, s3, buf, 1), -EINVAL);
	assert_int_equal(gpu_bar_write(t->hw, GPU_BAR3, s3 + 4096, buf, 1), -EINVAL);
	/* Offsets that overflow 64 bits. */
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, ~0ull - 1, buf, 4), -EINVAL);
	assert_int_equal(gpu_bar_write(t->hw, GPU_BAR3, ~0ull, buf, 16), -EINVAL);
	/* Lengths that overflow. */
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, 16, buf, SIZE_MAX - 8), -EINVAL);
	assert_int_equal(gpu_bar_write(t->hw, GPU_BAR3, 16, buf, SIZE_MAX), -EINVAL);
	/* Bad BAR numbers. */
	assert_int_equal(gpu_bar_read(t->hw, (enum gpu_bar)2, 0, buf, 4), -EINVAL);
	assert_int_equal(gpu_bar_write(t->hw, (enum gpu_bar)7, 0, buf, 4), -EINVAL);
}

/* An access over a mapped and an unmapped page: partial data, -EFAULT. */
static void test_partial_mapping(void **state)
{
	struct tdev *t = *state;
	uint64_t p = vram_alloc(t, NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	for (uint32_t i = 0; i < NV_SPAGE_SIZE; i += 4)
		vram_wr32(t, p + i, 0x01010101u * (i & 0xff));
	uint64_t off = tdev_bar1_map(t, p, NV_SPAGE_SIZE);
	/* The page after off is unmapped (nothing else mapped yet). */
	uint8_t buf[32];
	memset(buf, 0, sizeof(buf));
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, off + NV_SPAGE_SIZE - 16, buf, 32), -EFAULT);
	uint32_t w;
	memcpy(&w, buf, 4);
	assert_int_equal(w, 0x01010101u * ((NV_SPAGE_SIZE - 16) & 0xff));
	for (unsigned i = 16; i < 32; i++)
		assert_int_equal(buf[i], 0xff);

	uint8_t src[32];
	memset(src, 0x5a, sizeof(src));
	assert_int_equal(gpu_bar_write(t->hw, GPU_BAR1, off + NV_SPAGE_SIZE - 16, src, 32), -EFAULT);
	assert_int_equal(vram_rd32(t, p + NV_SPAGE_SIZE - 4), 0x5a5a5a5a);
	assert_int_equal(vram_rd32(t, p + NV_SPAGE_SIZE - 16), 0x5a5a5a5a);
}

/* Byte-granular and multi-page BAR accesses over scattered physical pages. */
static void test_bar_bytes_and_scatter(void **state)
{
	struct tdev *t = *state;
	struct tvm *vm = tdev_bar1(t);
	uint64_t p = vram_alloc(t, 4 * NV_SPAGE_SIZE, NV_SPAGE_SIZE);
	uint64_t va = 0x100000;
	static const unsigned order[4] = { 2, 0, 3, 1 };
	for (unsigned i = 0; i < 4; i++)
		tvm_map(t, vm, va + i * NV_SPAGE_SIZE, p + order[i] * NV_SPAGE_SIZE, NV_SPAGE_SIZE, false);
	assert_true(tvm_flush(t, vm));

	static uint8_t in[4 * NV_SPAGE_SIZE], out[4 * NV_SPAGE_SIZE];
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 131 + 7);
	assert_int_equal(gpu_bar_write(t->hw, GPU_BAR1, va + 3, in, sizeof(in) - 5), 0);
	memset(out, 0, sizeof(out));
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, va + 3, out, sizeof(out) - 5), 0);
	assert_memory_equal(in, out, sizeof(in) - 5);
	/* Physical placement follows the page order. */
	for (unsigned i = 0; i < 4; i++) {
		uint8_t pg[8];
		vram_read(t, p + order[i] * NV_SPAGE_SIZE + 8, pg, sizeof(pg));
		assert_memory_equal(pg, in + i * NV_SPAGE_SIZE + 5, sizeof(pg));
	}
	/* A single byte at an odd offset. */
	uint8_t one = 0xe7;
	assert_int_equal(gpu_bar_write(t->hw, GPU_BAR1, va + NV_SPAGE_SIZE + 1, &one, 1), 0);
	uint32_t w = vram_rd32(t, p + 0 * NV_SPAGE_SIZE);
	assert_int_equal((w >> 8) & 0xff, 0xe7);
	assert_int_equal(w & 0xff, in[NV_SPAGE_SIZE - 3]);
}

static void test_bar_flush_reg(void **state)
{
	struct tdev *t = *state;
	wr32(t, NV_BAR_FLUSH, NV_BAR_FLUSH_TRIGGER);
	assert_true(wait_reg(t, NV_BAR_FLUSH, NV_BAR_FLUSH_BUSY, 0, T_TIMEOUT_MS));
	assert_int_equal(rd32(t, NV_BAR_FLUSH) & NV_BAR_FLUSH_BUSY, 0);
}

/* The peephole binding is stored. */
static void test_peephole_stored(void **state)
{
	struct tdev *t = *state;
	wr32(t, NV_PBUS_PEEPHOLE_INST, NV_PBUS_BAR_VM | 0x123);
	assert_int_equal(rd32(t, NV_PBUS_PEEPHOLE_INST), NV_PBUS_BAR_VM | 0x123);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bar_sizes, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_unbound_bar_faults, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_bar1_bar3_separate_vms, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_out_of_aperture, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_partial_mapping, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_bar_bytes_and_scatter, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_bar_flush_reg, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_peephole_stored, tdev_setup, tdev_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
