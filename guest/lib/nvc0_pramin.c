/*
 * PRAMIN: the 1 MiB BAR0 window onto physical VRAM (0x700000), positioned by
 * 0x1700.  The driver uses it before BAR3 exists (the BAR3 VM's own tables)
 * and for kernel objects BAR3 cannot reach.  The window base is device-wide
 * state: every access runs under the device lock and the driver remembers
 * where the window points so it moves it only when needed.
 */
#include "nvc0_driver.h"

#define PRAMIN_ALIGN  NV_PRAMIN_WINDOW_SIZE   /* window bases on 1 MiB, as nouveau */

void nvc0_pramin_forget(struct gpuvm_device *dev)
{
	nvc0_lock(dev);
	dev->pramin_known = false;
	nvc0_unlock(dev);
}

static int pramin_check(struct gpuvm_device *dev, uint64_t addr, size_t len)
{
	if ((addr | len) & 3)
		return gpuvm_fail(GPUVM_ERR_INVALID, "PRAMIN access at 0x%llx+%zu is not 4-byte aligned",
				  (unsigned long long)addr, len);
	if (addr > dev->vram_size || len > dev->vram_size - addr)
		return gpuvm_fail(GPUVM_ERR_INVALID, "PRAMIN access 0x%llx+%zu is outside VRAM (%llu MiB)",
				  (unsigned long long)addr, len,
				  (unsigned long long)(dev->vram_size >> 20));
	return GPUVM_OK;
}

/* Point the window at the 1 MiB block holding addr; returns the BAR0 offset of addr. */
static uint32_t pramin_seek(struct gpuvm_device *dev, uint64_t addr)
{
	uint64_t base = addr & ~(uint64_t)(PRAMIN_ALIGN - 1);

	if (!dev->pramin_known || dev->pramin_base != base) {
		nvc0_wr32(dev, NV_PBUS_PRAMIN_BASE, (uint32_t)(base >> NV_PBUS_PRAMIN_SHIFT));
		dev->pramin_base = base;
		dev->pramin_known = true;
	}
	return NV_PRAMIN_WINDOW + (uint32_t)(addr - base);
}

/* Bytes from addr to the end of its window. */
static size_t pramin_span(uint64_t addr, size_t len)
{
	size_t left = PRAMIN_ALIGN - (size_t)(addr & (PRAMIN_ALIGN - 1));

	return len < left ? len : left;
}

int nvc0_pramin_read(struct gpuvm_device *dev, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;
	int err = pramin_check(dev, addr, len);

	if (err)
		return err;
	nvc0_lock(dev);
	while (len) {
		size_t n = pramin_span(addr, len);
		uint32_t reg = pramin_seek(dev, addr);

		for (size_t i = 0; i < n; i += 4) {
			uint32_t v = nvc0_rd32(dev, reg + (uint32_t)i);

			memcpy(out + i, &v, 4);
		}
		out += n;
		addr += n;
		len -= n;
	}
	nvc0_unlock(dev);
	return GPUVM_OK;
}

int nvc0_pramin_write(struct gpuvm_device *dev, uint64_t addr, const void *buf, size_t len)
{
	const uint8_t *in = buf;
	int err = pramin_check(dev, addr, len);

	if (err)
		return err;
	nvc0_lock(dev);
	while (len) {
		size_t n = pramin_span(addr, len);
		uint32_t reg = pramin_seek(dev, addr);

		for (size_t i = 0; i < n; i += 4) {
			uint32_t v;

			memcpy(&v, in + i, 4);
			nvc0_wr32(dev, reg + (uint32_t)i, v);
		}
		in += n;
		addr += n;
		len -= n;
	}
	nvc0_unlock(dev);
	return GPUVM_OK;
}

int nvc0_pramin_fill(struct gpuvm_device *dev, uint64_t addr, uint32_t word, size_t len)
{
	int err = pramin_check(dev, addr, len);

	if (err)
		return err;
	nvc0_lock(dev);
	while (len) {
		size_t n = pramin_span(addr, len);
		uint32_t reg = pramin_seek(dev, addr);

		for (size_t i = 0; i < n; i += 4)
			nvc0_wr32(dev, reg + (uint32_t)i, word);
		addr += n;
		len -= n;
	}
	nvc0_unlock(dev);
	return GPUVM_OK;
}
