/*
 * Device selection and bring-up: transport specs, the shared per-process
 * device, VRAM size from the PFB registers, BAR1/BAR3 and PFIFO set up with
 * every structure inside VRAM, and no register the model does not know.
 */
#include "nvc0/regs.h"
#include "util_guest.h"

static void test_spec_errors(void **state)
{
	struct gpuvm_device *dev = (void *)1;

	(void)state;
	assert_int_equal(gpuvm_device_open("bogus", &dev), GPUVM_ERR_INVALID);
	assert_null(dev);
	assert_non_null(strstr(gpuvm_last_error(), "unknown device"));
	/* local: fails cleanly whether or not its backend is built or gpuvmd runs. */
	assert_int_not_equal(gpuvm_device_open("local:no-such-vgpu@/nonexistent/gpuvmd.sock", &dev),
			     GPUVM_OK);
	assert_null(dev);
	assert_true(strlen(gpuvm_last_error()) > 0);
	/* pci: (transport_pci.c) fails cleanly when the device is absent. */
	setenv("GPUVM_PCI_SYSFS_ROOT", "/nonexistent/sys/bus/pci/devices", 1);
	assert_int_equal(gpuvm_device_open("pci:0000:00:03.0", &dev), GPUVM_ERR_NO_DEVICE);
	unsetenv("GPUVM_PCI_SYSFS_ROOT");
	assert_int_equal(gpuvm_device_open("native:vram=12Q", &dev), GPUVM_ERR_INVALID);
	assert_int_equal(gpuvm_device_open("native:colour=red", &dev), GPUVM_ERR_INVALID);
	assert_int_equal(gpuvm_device_open(NULL, NULL), GPUVM_ERR_INVALID);
}

static void test_env_default(void **state)
{
	struct gpuvm_device *dev;

	(void)state;
	setenv("GPUVM_DEVICE", "pci:0000:00:07.0", 1);
	assert_string_equal(gpuvm_transport_default_spec(), "pci:0000:00:07.0");
	setenv("GPUVM_PCI_SYSFS_ROOT", "/nonexistent/sys/bus/pci/devices", 1);
	assert_int_equal(gpuvm_device_open(NULL, &dev), GPUVM_ERR_NO_DEVICE);
	unsetenv("GPUVM_PCI_SYSFS_ROOT");
	unsetenv("GPUVM_DEVICE");
	assert_string_equal(gpuvm_transport_default_spec(), "native");
}

static void test_shared_device(void **state)
{
	struct gpuvm_device *a, *b, *c;

	(void)state;
	TG_OK(gpuvm_device_open(TG_SPEC, &a));
	TG_OK(gpuvm_device_open("native", &b));
	assert_ptr_equal(a, b);        /* one gpusim, one driver per process */
	assert_int_equal(gpuvm_device_open("native:vram=256M", &c), GPUVM_ERR_BUSY);
	assert_int_equal(gpuvm_raw_vram_size(a), TG_VRAM);
	gpuvm_device_close(b);
	gpuvm_device_close(a);
}

static void test_bring_up(void **state)
{
	struct gpuvm_ctx *ctx = tg_ctx();
	struct gpuvm_device *dev = gpuvm_ctx_device(ctx);
	struct gpuvm_device_info info;
	struct gpusim_stats st;
	uint32_t bar1 = gpuvm_raw_rd32(dev, NV_PBUS_BAR1_INST);
	uint32_t bar3 = gpuvm_raw_rd32(dev, NV_PBUS_BAR3_INST);

	(void)state;
	TG_OK(gpuvm_device_info(dev, &info));
	assert_int_equal(info.vram_size, TG_VRAM);
	assert_int_equal(NV_PMC_BOOT0_CHIPSET(info.boot0), 0x0c0);
	assert_int_equal(info.channels, 1);
	assert_true(info.vram_free < TG_VRAM);
	assert_true(bar1 & NV_PBUS_BAR_VM);
	assert_true(bar3 & NV_PBUS_BAR_VM);
	assert_true(((uint64_t)(bar1 & NV_PBUS_BAR_INST_MASK) << 12) < TG_VRAM);
	assert_true(((uint64_t)(bar3 & NV_PBUS_BAR_INST_MASK) << 12) < TG_VRAM);
	assert_true(gpuvm_raw_rd32(dev, NV_PFIFO_ENABLE) & 1);
	gpusim_get_stats(tg_sim(ctx), &st);
	/* The driver touches only registers the model knows, and only real VRAM. */
	assert_int_equal(st.unmodeled_reads, 0);
	assert_int_equal(st.unmodeled_writes, 0);
	assert_int_equal(st.bad_pramin, 0);
	assert_int_equal(st.faults, 0);
	assert_true(st.tlb_flushes > 0);
	TG_OK(gpuvm_ctx_destroy(ctx));
}

/* The smallest VRAM gpusim offers still holds everything the driver builds. */
static void test_small_vram(void **state)
{
	struct gpuvm_ctx *ctx;
	struct gpuvm_ctx_layout lay;
	gpuvm_devptr p;
	uint32_t v = 0x12345678, back = 0;

	(void)state;
	TG_OK(gpuvm_ctx_open("native:vram=16M", NULL, &ctx));
	TG_OK(gpuvm_raw_ctx_layout(ctx, &lay));
	assert_true(lay.inst < (16u << 20) && lay.pd < (16u << 20) && lay.userd < (16u << 20));
	TG_OK(gpuvm_mem_alloc(ctx, 4096, &p));
	TG_OK(gpuvm_memcpy_htod(ctx, p, &v, 4));
	TG_OK(gpuvm_memcpy_dtoh(ctx, &back, p, 4));
	assert_int_equal(back, v);
	TG_OK(gpuvm_ctx_destroy(ctx));
}

static void test_raw_access(void **state)
{
	struct gpuvm_device *dev;
	uint32_t w[4] = { 1, 2, 3, 4 }, r[4] = { 0 };
	uint64_t t1, t2;

	(void)state;
	TG_OK(gpuvm_device_open(TG_SPEC, &dev));
	assert_int_equal(gpuvm_raw_rd32(dev, NV_PMC_BOOT0), NV_PMC_BOOT0_GF100);
	TG_OK(gpuvm_raw_vram_write(dev, TG_VRAM - 16, w, sizeof(w)));
	TG_OK(gpuvm_raw_vram_read(dev, TG_VRAM - 16, r, sizeof(r)));
	assert_memory_equal(w, r, sizeof(w));
	assert_int_equal(gpuvm_raw_vram_read(dev, TG_VRAM - 4, r, 8), GPUVM_ERR_INVALID);
	assert_int_equal(gpuvm_raw_vram_read(dev, 2, r, 4), GPUVM_ERR_INVALID);
	/* BAR1 is not bound before bring-up: a fault, reported as an error. */
	assert_int_equal(gpuvm_raw_bar_read(dev, GPUVM_BAR1, 0, r, 4), GPUVM_ERR_FAULTED);
	assert_int_equal(gpuvm_raw_bar_read(dev, GPUVM_BAR0, 0, r, 4), GPUVM_ERR_INVALID);
	t1 = gpuvm_raw_ptimer(dev);
	t2 = gpuvm_raw_ptimer(dev);
	assert_true(t2 >= t1);
	gpuvm_device_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_env_default),
		cmocka_unit_test(test_raw_access),
		cmocka_unit_test(test_shared_device),
		cmocka_unit_test(test_bring_up),
		cmocka_unit_test(test_small_vram),
	};

	return cmocka_run_group_tests_name("guest device", tests, NULL, NULL);
}
