/*
 * VRAM: a memfd mapped shared, so that untouched pages cost nothing and the
 * owner can map a partition of it elsewhere (gpu_hw vram_fd).
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim_internal.h"

int sim_vram_init(struct gpusim *sim, uint64_t size)
{
	int fd = memfd_create("gpusim-vram", MFD_CLOEXEC);
	void *p;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		goto err_close;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		goto err_close;
	sim->vram_fd = fd;
	sim->vram = p;
	sim->vram_size = size;
	return 0;

err_close:
	{
		int err = -errno;

		close(fd);
		return err;
	}
}

void sim_vram_fini(struct gpusim *sim)
{
	if (sim->vram)
		munmap(sim->vram, sim->vram_size);
	if (sim->vram_fd >= 0)
		close(sim->vram_fd);
	sim->vram = NULL;
	sim->vram_fd = -1;
}

uint32_t sim_vram_rd32(struct gpusim *sim, uint64_t addr)
{
	if ((addr & 3) || !sim_vram_ok(sim, addr, 4))
		return 0;
	return sim_load_acquire32(sim->vram + addr);
}

void sim_vram_wr32(struct gpusim *sim, uint64_t addr, uint32_t val)
{
	if ((addr & 3) || !sim_vram_ok(sim, addr, 4))
		return;
	sim_store_release32(sim->vram + addr, val);
}

uint64_t sim_vram_rd64(struct gpusim *sim, uint64_t addr)
{
	return sim_vram_rd32(sim, addr) | (uint64_t)sim_vram_rd32(sim, addr + 4) << 32;
}

void sim_store_release32(uint8_t *p, uint32_t val)
{
	__atomic_store_n((uint32_t *)(void *)p, val, __ATOMIC_RELEASE);
}

uint32_t sim_load_acquire32(const uint8_t *p)
{
	return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_ACQUIRE);
}
