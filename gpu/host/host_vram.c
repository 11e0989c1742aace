/*
 * The daemon's CPU view of VRAM.  With gpusim the backing files are mapped
 * back to back; on a board without them every access goes through the
 * PRAMIN window (slow but correct).  The reserved area at the bottom of VRAM
 * holds everything the daemon owns: shadow page tables, shadow instance
 * blocks, shadow USERD, the runlists, the host BAR1 VM and a scratch page.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "host.h"

int host_vram_map(struct gpuvm_host *host)
{
	uint64_t size = host->hw->ops->vram_size(host->hw);
	uint8_t *region;

	host->vram_size = size;
	region = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED)
		return -errno;
	for (uint64_t at = 0; at < size;) {
		uint64_t off, len;
		int fd = host->hw->ops->vram_fd(host->hw, at, &off, &len);

		if (fd < 0 || !len) {
			/* No file behind VRAM (a real board): use PRAMIN. */
			munmap(region, size);
			return fd == -ENOTSUP ? 0 : (fd < 0 ? fd : -EIO);
		}
		if (mmap(region + at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
			 (off_t)off) == MAP_FAILED) {
			int err = -errno;

			munmap(region, size);
			return err;
		}
		at += len;
	}
	host->vram = region;
	return 0;
}

void host_vram_unmap(struct gpuvm_host *host)
{
	if (host->vram)
		munmap(host->vram, host->vram_size);
	host->vram = NULL;
}

static void host_pramin_seek(struct gpuvm_host *host, uint64_t addr)
{
	gpu_wr32(host->hw, NV_PBUS_PRAMIN_BASE, (uint32_t)(addr >> NV_PBUS_PRAMIN_SHIFT));
}

uint32_t host_rd32_vram(struct gpuvm_host *host, uint64_t addr)
{
	if (addr + 4 > host->vram_size || (addr & 3))
		return 0;
	if (host->vram)
		return __atomic_load_n((uint32_t *)(void *)(host->vram + addr), __ATOMIC_ACQUIRE);
	host_pramin_seek(host, addr);
	return gpu_rd32(host->hw, NV_PRAMIN_WINDOW + (uint32_t)(addr & 0xffff));
}

void host_wr32_vram(struct gpuvm_host *host, uint64_t addr, uint32_t val)
{
	if (addr + 4 > host->vram_size || (addr & 3))
		return;
	if (host->vram) {
		__atomic_store_n((uint32_t *)(void *)(host->vram + addr), val, __ATOMIC_RELEASE);
		return;
	}
	host_pramin_seek(host, addr);
	gpu_wr32(host->hw, NV_PRAMIN_WINDOW + (uint32_t)(addr & 0xffff), val);
}

void host_vram_zero(struct gpuvm_host *host, uint64_t addr, uint64_t len)
{
	if (addr > host->vram_size || len > host->vram_size - addr)
		return;
	if (host->vram) {
		memset(host->vram + addr, 0, len);
		return;
	}
	for (uint64_t i = 0; i < len; i += 4)
		host_wr32_vram(host, addr + i, 0);
}

void host_vram_scrub(struct gpuvm_host *host, uint64_t addr, uint64_t len)
{
	uint64_t end = addr + len;

	/* Punching holes zeroes the pages and gives their memory back. */
	for (uint64_t at = addr; at < end && host->vram;) {
		uint64_t off, flen;
		int fd = host->hw->ops->vram_fd(host->hw, at, &off, &flen);

		if (fd < 0)
			break;
		if (flen > end - at)
			flen = end - at;
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)flen))
			memset(host->vram + at, 0, flen);
		at += flen;
		if (at == end)
			return;
	}
	host_vram_zero(host, addr, len);
}

int host_page_alloc(struct gpuvm_host *host, uint64_t size, uint64_t align, uint64_t *addr)
{
	int err;

	pthread_mutex_lock(&host->lock);
	err = host_ranges_alloc(&host->reserved, size, align, addr);
	pthread_mutex_unlock(&host->lock);
	if (!err)
		host_vram_zero(host, *addr, size);
	return err;
}

void host_page_free(struct gpuvm_host *host, uint64_t addr, uint64_t size)
{
	pthread_mutex_lock(&host->lock);
	host_ranges_free(&host->reserved, addr, size);
	pthread_mutex_unlock(&host->lock);
}

bool host_addr_reserved(const struct gpuvm_host *host, uint64_t addr, uint64_t len)
{
	return addr < host->reserved_size && len <= host->reserved_size - addr;
}
