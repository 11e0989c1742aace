/*
 * VRAM: memfds mapped shared, so that untouched pages cost nothing and the
 * owner can map a partition elsewhere (gpu_hw vram_fd).  VRAM is split over
 * one memfd per SIM_VRAM_CHUNK, all mapped back to back into one reserved
 * range: the model sees one flat array, while a daemon can hand a guest the
 * files of its own partition and nothing else.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim_internal.h"

static uint64_t sim_chunk_len(const struct gpusim *sim, unsigned i)
{
	uint64_t start = (uint64_t)i * SIM_VRAM_CHUNK;

	return sim->vram_size - start < SIM_VRAM_CHUNK ? sim->vram_size - start : SIM_VRAM_CHUNK;
}

static int sim_vram_map_chunk(struct gpusim *sim, unsigned i)
{
	uint64_t len = sim_chunk_len(sim, i);
	int fd = memfd_create("gpusim-vram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *want = sim->vram + (uint64_t)i * SIM_VRAM_CHUNK;

	if (fd < 0)
		return -errno;
	/* Sealable, so that a daemon handing the file to a guest can forbid
	 * resizing it (a shrunk file would fault the daemon's own mapping). */
	if (ftruncate(fd, (off_t)len) < 0 ||
	    mmap(want, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED | MAP_NORESERVE,
		 fd, 0) == MAP_FAILED) {
		int err = -errno;

		close(fd);
		return err;
	}
	sim->vram_fds[i] = fd;
	return 0;
}

int sim_vram_init(struct gpusim *sim, uint64_t size)
{
	void *region;
	int err;

	sim->vram_size = size;
	sim->vram_chunks = (unsigned)((size + SIM_VRAM_CHUNK - 1) / SIM_VRAM_CHUNK);
	sim->vram_fds = malloc(sim->vram_chunks * sizeof(int));
	if (!sim->vram_fds)
		return -ENOMEM;
	for (unsigned i = 0; i < sim->vram_chunks; i++)
		sim->vram_fds[i] = -1;
	/* Reserve the whole range first so the chunks land contiguously. */
	region = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED) {
		err = -errno;
		goto err_fds;
	}
	sim->vram = region;
	for (unsigned i = 0; i < sim->vram_chunks; i++) {
		err = sim_vram_map_chunk(sim, i);
		if (err)
			goto err_map;
	}
	return 0;

err_map:
	sim_vram_fini(sim);
	return err;
err_fds:
	free(sim->vram_fds);
	sim->vram_fds = NULL;
	return err;
}

void sim_vram_fini(struct gpusim *sim)
{
	if (sim->vram)
		munmap(sim->vram, sim->vram_size);
	for (unsigned i = 0; sim->vram_fds && i < sim->vram_chunks; i++)
		if (sim->vram_fds[i] >= 0)
			close(sim->vram_fds[i]);
	free(sim->vram_fds);
	sim->vram_fds = NULL;
	sim->vram = NULL;
}

int sim_vram_chunk_fd(struct gpusim *sim, uint64_t addr, uint64_t *fd_off, uint64_t *len)
{
	unsigned i;

	if (addr >= sim->vram_size)
		return -EINVAL;
	i = (unsigned)(addr / SIM_VRAM_CHUNK);
	*fd_off = addr % SIM_VRAM_CHUNK;
	*len = sim_chunk_len(sim, i) - *fd_off;
	return sim->vram_fds[i];
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
