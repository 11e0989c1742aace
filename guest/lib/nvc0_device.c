/*
 * The device: one per GPU per process, shared by every context on it.
 *
 * Opening only attaches the transport.  The first context brings the GPU up
 * (nvc0_device_up): identify the chip, read the VRAM size from the PFB
 * registers, then the units in dependency order: VRAM allocator, BAR3 and
 * instmem (kernel objects), BAR1, PFIFO.  The last close takes them down in
 * reverse order and unbinds the BARs, leaving no pointer into freed memory.
 */
#include <stdlib.h>
#include <time.h>

#include "nvc0_driver.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gpuvm_device *registry;

void nvc0_lock(struct gpuvm_device *dev)
{
	pthread_mutex_lock(&dev->lock);
}

void nvc0_unlock(struct gpuvm_device *dev)
{
	pthread_mutex_unlock(&dev->lock);
}

static int wait_reg(struct gpuvm_device *dev, uint32_t reg, uint32_t mask, uint32_t want,
		    bool any, unsigned timeout_ms, const char *what)
{
	uint64_t deadline = gpuvm_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (unsigned i = 0;; i++) {
		uint32_t v = nvc0_rd32(dev, reg);

		if (any ? (v & mask) != 0 : (v & mask) == want)
			return GPUVM_OK;
		if (gpuvm_now_ns() > deadline)
			return gpuvm_fail(GPUVM_ERR_TIMEOUT, "timed out after %u ms waiting for %s "
					  "(register 0x%06x = 0x%08x)", timeout_ms, what, reg, v);
		if (i > 64) {
			struct timespec ts = { 0, 10000 };

			nanosleep(&ts, NULL);
		}
	}
}

int nvc0_wait_reg(struct gpuvm_device *dev, uint32_t reg, uint32_t mask, uint32_t want,
		  unsigned timeout_ms, const char *what)
{
	return wait_reg(dev, reg, mask, want, false, timeout_ms, what);
}

int nvc0_wait_reg_any(struct gpuvm_device *dev, uint32_t reg, uint32_t mask,
		      unsigned timeout_ms, const char *what)
{
	return wait_reg(dev, reg, mask, 0, true, timeout_ms, what);
}

uint64_t nvc0_vram_size_from_regs(struct gpuvm_transport *tp)
{
	uint64_t parts = gpuvm_tp_rd32(tp, NV_PFB_PARTS);
	uint64_t mib = gpuvm_tp_rd32(tp, NV_PFB_PART_MIB);

	/* A dead link reads all-ones: treat as no VRAM rather than 2^52 bytes. */
	if (parts > 64 || mib > 65536)
		return 0;
	return parts * mib << 20;
}

static int device_identify(struct gpuvm_device *dev)
{
	uint32_t chipset;

	dev->boot0 = nvc0_rd32(dev, NV_PMC_BOOT0);
	chipset = NV_PMC_BOOT0_CHIPSET(dev->boot0);
	if ((chipset & 0x1f0) != 0x0c0 && (chipset & 0x1f0) != 0x0d0)
		return gpuvm_fail(GPUVM_ERR_DEVICE, "not an NVC0-family GPU (BOOT0 = 0x%08x)",
				  dev->boot0);
	dev->vram_size = nvc0_vram_size_from_regs(dev->tp);
	if (!dev->vram_size)
		return gpuvm_fail(GPUVM_ERR_DEVICE, "GPU reports no VRAM (0x022438 = 0x%08x, "
				  "0x10f20c = 0x%08x)", nvc0_rd32(dev, NV_PFB_PARTS),
				  nvc0_rd32(dev, NV_PFB_PART_MIB));
	return GPUVM_OK;
}

static void device_down(struct gpuvm_device *dev)
{
	if (!dev->up)
		return;
	nvc0_fifo_fini(dev);
	nvc0_pv_fini(dev);
	nvc0_bar_fini(dev, &dev->bar1, NV_PBUS_BAR1_INST);
	nvc0_instmem_fini(dev);
	nvc0_vram_fini(dev);
	dev->up = false;
}

int nvc0_device_up(struct gpuvm_device *dev)
{
	int err;

	nvc0_lock(dev);
	if (dev->up) {
		nvc0_unlock(dev);
		return GPUVM_OK;
	}
	dev->pramin_known = false;
	err = device_identify(dev);
	if (!err)
		err = nvc0_vram_init(dev);
	if (err)
		goto out;
	/* A scrubbed vGPU partition needs no zero-filling of the page directories
	 * and tables made now (20000 trapped writes otherwise). */
	dev->vram_fresh = nvc0_pv_vram_fresh(dev);
	err = nvc0_instmem_init(dev);
	if (err)
		goto err_vram;
	err = nvc0_bar1_init(dev);
	if (err)
		goto err_instmem;
	err = nvc0_fifo_init(dev);
	if (err)
		goto err_bar1;
	dev->up = true;
	goto out;

err_bar1:
	nvc0_bar_fini(dev, &dev->bar1, NV_PBUS_BAR1_INST);
err_instmem:
	nvc0_instmem_fini(dev);
err_vram:
	nvc0_vram_fini(dev);
out:
	dev->vram_fresh = false;    /* from now on memory is reused: fill it */
	nvc0_unlock(dev);
	return err;
}

static int device_create(struct gpuvm_transport *tp, struct gpuvm_device **out)
{
	struct gpuvm_device *dev = calloc(1, sizeof(*dev));
	pthread_mutexattr_t attr;

	if (!dev)
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "device: out of host memory");
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&dev->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	dev->tp = tp;
	dev->refs = 1;
	/* Raw users may ask for the size before bring-up. */
	dev->vram_size = nvc0_vram_size_from_regs(tp);
	*out = dev;
	return GPUVM_OK;
}

int gpuvm_device_open(const char *spec, struct gpuvm_device **out)
{
	struct gpuvm_transport *tp;
	struct gpuvm_device *dev;
	int err;

	if (!out)
		return gpuvm_fail(GPUVM_ERR_INVALID, "device open: NULL result pointer");
	*out = NULL;
	err = gpuvm_transport_open(spec, &tp);
	if (err)
		return err;
	pthread_mutex_lock(&registry_lock);
	for (dev = registry; dev; dev = dev->next)
		if (!strcmp(dev->tp->id, tp->id))
			break;
	if (dev) {
		/* Same GPU: share the driver; the extra transport reference goes. */
		dev->refs++;
		pthread_mutex_unlock(&registry_lock);
		gpuvm_transport_close(tp);
		*out = dev;
		return GPUVM_OK;
	}
	err = device_create(tp, &dev);
	if (!err) {
		dev->next = registry;
		registry = dev;
		*out = dev;
	}
	pthread_mutex_unlock(&registry_lock);
	if (err)
		gpuvm_transport_close(tp);
	return err;
}

int nvc0_device_ref(struct gpuvm_device *dev)
{
	pthread_mutex_lock(&registry_lock);
	dev->refs++;
	pthread_mutex_unlock(&registry_lock);
	return GPUVM_OK;
}

static void registry_remove(struct gpuvm_device *dev)
{
	for (struct gpuvm_device **p = &registry; *p; p = &(*p)->next) {
		if (*p == dev) {
			*p = dev->next;
			return;
		}
	}
}

void gpuvm_device_close(struct gpuvm_device *dev)
{
	bool last;

	if (!dev)
		return;
	/*
	 * The last close tears down under the registry lock, so a concurrent
	 * open of the same GPU waits and then brings it up from scratch.
	 */
	pthread_mutex_lock(&registry_lock);
	last = --dev->refs == 0;
	if (last) {
		registry_remove(dev);
		device_down(dev);
		gpuvm_transport_close(dev->tp);
		pthread_mutex_destroy(&dev->lock);
		free(dev);
	}
	pthread_mutex_unlock(&registry_lock);
}

int gpuvm_device_info(struct gpuvm_device *dev, struct gpuvm_device_info *info)
{
	if (!dev || !info)
		return gpuvm_fail(GPUVM_ERR_INVALID, "device info: NULL argument");
	memset(info, 0, sizeof(*info));
	nvc0_lock(dev);
	info->boot0 = dev->up ? dev->boot0 : nvc0_rd32(dev, NV_PMC_BOOT0);
	info->vram_size = dev->up ? dev->vram_size : nvc0_vram_size_from_regs(dev->tp);
	info->vram_free = dev->up ? dev->vram.total - dev->vram.in_use : 0;
	info->channels = dev->up ? dev->fifo.nchan : 0;
	nvc0_unlock(dev);
	info->bar1_size = dev->tp->ops->bar_size(dev->tp, GPUVM_BAR1);
	info->bar3_size = dev->tp->ops->bar_size(dev->tp, GPUVM_BAR3);
	info->transport = dev->tp->kind;
	return GPUVM_OK;
}
