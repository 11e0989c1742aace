/*
 * BAR1 and BAR3: each is an aperture translated through its own VM, bound by
 * pointing 0x1704 / 0x1714 at an instance block whose 0x200..0x20c name the
 * page directory and limit.
 *
 *   BAR3  maps the instmem heap linearly at offset 0 (kernel objects).
 *   BAR1  maps USERD pages (the submission doorbell), the channels' rings,
 *         pushbuffers and fence pages, and buffers the CPU copies through.
 */
#include "gpuvm_pv.h"
#include "nvc0_driver.h"

#define BAR_FLUSH_WAIT_MS 1000

static int bar_setup(struct gpuvm_device *dev, struct nvc0_bar *bar, enum gpuvm_bar which,
		     const char *name)
{
	int err;

	bar->size = dev->tp->ops->bar_size(dev->tp, which) & ~(uint64_t)(NV_LPAGE_SIZE - 1);
	if (!bar->size)
		return gpuvm_fail(GPUVM_ERR_DEVICE, "%s has no usable size", name);
	err = nvc0_kobj_new(dev, NV_INST_SIZE, NV_INST_SIZE, &bar->inst);
	if (err)
		return err;
	err = nvc0_vm_init(dev, &bar->vm, name, 0, bar->size, true);
	if (err)
		goto err_inst;
	err = nvc0_vm_bind_inst(&bar->vm, &bar->inst);
	if (err)
		goto err_vm;
	return GPUVM_OK;

err_vm:
	nvc0_vm_fini(&bar->vm);
err_inst:
	nvc0_kobj_del(dev, &bar->inst);
	return err;
}

static void bar_bind(struct gpuvm_device *dev, struct nvc0_bar *bar, uint32_t bind_reg)
{
	nvc0_wr32(dev, bind_reg, NV_PBUS_BAR_VM | (uint32_t)(bar->inst.phys >> 12));
	bar->bound = true;
}

void nvc0_bar_fini(struct gpuvm_device *dev, struct nvc0_bar *bar, uint32_t bind_reg)
{
	if (bar->bound)
		nvc0_wr32(dev, bind_reg, 0);
	bar->bound = false;
	nvc0_vm_fini(&bar->vm);
	nvc0_kobj_del(dev, &bar->inst);
}

int nvc0_bar3_init(struct gpuvm_device *dev, uint64_t heap_phys, uint64_t heap_size)
{
	struct nvc0_bar *bar = &dev->bar3;
	uint64_t off;
	int err = bar_setup(dev, bar, GPUVM_BAR3, "BAR3");

	if (err)
		return err;
	err = nvc0_vm_get_va(&bar->vm, heap_size, NV_LPAGE_SHIFT, &off);
	if (!err && off != 0)
		err = gpuvm_fail(GPUVM_ERR_DEVICE, "BAR3: heap not placed at offset 0");
	if (!err)
		err = nvc0_vm_map(&bar->vm, 0, heap_phys, heap_size, NV_LPAGE_SHIFT, false);
	if (err) {
		nvc0_bar_fini(dev, bar, NV_PBUS_BAR3_INST);
		return err;
	}
	bar_bind(dev, bar, NV_PBUS_BAR3_INST);
	return GPUVM_OK;
}

int nvc0_bar1_init(struct gpuvm_device *dev)
{
	int err = bar_setup(dev, &dev->bar1, GPUVM_BAR1, "BAR1");

	if (err)
		return err;
	bar_bind(dev, &dev->bar1, NV_PBUS_BAR1_INST);
	return GPUVM_OK;
}

int nvc0_bar1_write(struct gpuvm_device *dev, uint64_t off, const void *buf, size_t len)
{
	int err = nvc0_pv_bar_sync(dev, 1, off, len);

	if (err)
		return err;
	if (dev->tp->ops->bar_write(dev->tp, GPUVM_BAR1, off, buf, len))
		return gpuvm_fail(GPUVM_ERR_DEVICE, "BAR1 write at 0x%llx+%zu faulted",
				  (unsigned long long)off, len);
	return GPUVM_OK;
}

int nvc0_bar1_read(struct gpuvm_device *dev, uint64_t off, void *buf, size_t len)
{
	int err = nvc0_pv_bar_sync(dev, 1, off, len);

	if (err)
		return err;
	if (dev->tp->ops->bar_read(dev->tp, GPUVM_BAR1, off, buf, len))
		return gpuvm_fail(GPUVM_ERR_DEVICE, "BAR1 read at 0x%llx+%zu faulted",
				  (unsigned long long)off, len);
	return GPUVM_OK;
}

/* Push posted BAR writes to memory before the GPU is told to look at them. */
void nvc0_bar_flush(struct gpuvm_device *dev)
{
	/* A vGPU that says its BAR writes are coherent has nothing to flush. */
	if (nvc0_pv_has(dev, GPUVM_PV_F_BAR_COHERENT))
		return;
	nvc0_wr32(dev, NV_BAR_FLUSH, NV_BAR_FLUSH_TRIGGER);
	nvc0_wait_reg(dev, NV_BAR_FLUSH, NV_BAR_FLUSH_BUSY, 0, BAR_FLUSH_WAIT_MS, "BAR flush");
}
