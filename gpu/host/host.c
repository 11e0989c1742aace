/*
 * The host GPU: bring-up and teardown of the physical GPU for gpuvmd, the
 * VRAM split between the daemon's reserved area and VM partitions, and the
 * host-wide half of the isolation checker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "gpusim.h"
#include "host.h"
#include "nvc0/mem.h"

static int host_check_chipset(struct gpuvm_host *host, char *err, size_t errlen)
{
	uint32_t boot0 = gpu_rd32(host->hw, NV_PMC_BOOT0);
	uint32_t chipset = NV_PMC_BOOT0_CHIPSET(boot0);

	if (chipset < 0xc0 || chipset > 0xcf) {
		snprintf(err, errlen, "unsupported GPU: BOOT0 0x%08x (chipset 0x%03x), need NVC0 (Fermi)",
			 boot0, chipset);
		return -ENODEV;
	}
	return 0;
}

static int host_split_vram(struct gpuvm_host *host, uint64_t reserved, char *err, size_t errlen)
{
	int ret;

	if (reserved % VGPU_VRAM_ALIGN || reserved >= host->vram_size ||
	    reserved > (1ull << NV_PDE_SHIFT)) {
		snprintf(err, errlen, "reserved VRAM %llu MiB does not fit a %llu MiB GPU "
			 "(multiple of 16 MiB, at most 128 MiB, leaving room for partitions)",
			 (unsigned long long)(reserved >> 20),
			 (unsigned long long)(host->vram_size >> 20));
		return -EINVAL;
	}
	host->reserved_size = reserved;
	ret = host_ranges_init(&host->reserved, 0, reserved);
	if (!ret)
		ret = host_ranges_init(&host->parts, reserved, host->vram_size - reserved);
	if (ret)
		snprintf(err, errlen, "out of memory");
	return ret;
}

static uint64_t host_sched_clock(void *arg)
{
	return host_ptimer_ns(arg);
}

static int host_sched_start(struct gpuvm_host *host, const struct host_config *cfg,
			    char *err, size_t errlen)
{
	const char *name = cfg && cfg->sched ? cfg->sched : "credit";
	const struct sched_policy *p = sched_policy_find(name);

	if (!p) {
		snprintf(err, errlen, "unknown scheduling policy '%s' (direct, fifo, credit, band)", name);
		return -EINVAL;
	}
	host->sched = sched_create(p, cfg ? &cfg->sched_params : NULL, host_sched_clock, host);
	if (!host->sched) {
		snprintf(err, errlen, "cannot start the scheduler");
		return -ENOMEM;
	}
	return 0;
}

static int host_bringup(struct gpuvm_host *host, char *err, size_t errlen)
{
	int ret = host_page_alloc(host, NV_SPAGE_SIZE, NV_SPAGE_SIZE, &host->scratch);

	if (!ret)
		ret = host_bar1_init(host);
	if (!ret)
		ret = host_fifo_init(host);
	if (!ret)
		ret = host_irq_start(host);
	if (ret)
		snprintf(err, errlen, "GPU bring-up failed: %s", ret == -ETIMEDOUT ?
			 "the GPU did not answer" : "out of reserved VRAM or resources");
	return ret;
}

struct gpuvm_host *host_create(struct gpu_hw *hw, const struct host_config *cfg,
			       char *err, size_t errlen)
{
	struct gpuvm_host *host = calloc(1, sizeof(*host));
	uint64_t reserved = cfg && cfg->reserved_vram ? cfg->reserved_vram : HOST_DEFAULT_RESERVED;

	if (!host) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	host->hw = hw;
	host->irq_fd = -1;
	pthread_mutex_init(&host->lock, NULL);
	if (vgpu_core_init()) {
		snprintf(err, errlen, "vGPU register table is inconsistent (see the log)");
		goto err_free;
	}
	if (host_check_chipset(host, err, errlen))
		goto err_free;
	if (host_vram_map(host)) {
		snprintf(err, errlen, "cannot map VRAM");
		goto err_free;
	}
	if (host_split_vram(host, reserved, err, errlen))
		goto err_unmap;
	if (host_bringup(host, err, errlen))
		goto err_ranges;
	if (host_sched_start(host, cfg, err, errlen))
		goto err_ranges;
	return host;

err_ranges:
	host_irq_stop(host);
	host_ranges_fini(&host->parts);
	host_ranges_fini(&host->reserved);
err_unmap:
	host_vram_unmap(host);
err_free:
	pthread_mutex_destroy(&host->lock);
	free(host);
	return NULL;
}

void host_destroy(struct gpuvm_host *host)
{
	if (!host)
		return;
	for (unsigned i = 0; i < HOST_MAX_VGPUS; i++)
		if (host->vgpus[i])
			vgpu_destroy(host->vgpus[i]);
	sched_destroy(host->sched);
	host_irq_stop(host);
	host_ranges_fini(&host->parts);
	host_ranges_fini(&host->reserved);
	host_vram_unmap(host);
	gpu_hw_destroy(host->hw);
	pthread_mutex_destroy(&host->lock);
	free(host);
}

struct gpu_hw *host_hw(struct gpuvm_host *host)
{
	return host->hw;
}

void host_vram_free(struct gpuvm_host *host, uint64_t *total_free, uint64_t *largest)
{
	pthread_mutex_lock(&host->lock);
	*total_free = host->parts.free_bytes;
	*largest = host_ranges_largest(&host->parts);
	pthread_mutex_unlock(&host->lock);
}

/* Every bound physical channel belongs to one live vGPU and is backed by a
 * shadow instance block in the reserved area. */
static int host_check_channels(struct gpuvm_host *host, char *why, size_t len)
{
	int ret = 0;

	pthread_mutex_lock(&host->lock);
	for (unsigned ch = 0; ch < NV_PFIFO_CHANNELS && !ret; ch++) {
		uint32_t inst = gpu_rd32(host->hw, NV_PFIFO_CHAN_INST(ch));
		const struct host_chan *c = &host->chan[ch];
		bool live = false;

		for (unsigned i = 0; i < HOST_MAX_VGPUS; i++)
			live |= c->owner && host->vgpus[i] == c->owner;
		if ((inst & NV_CHAN_INST_VALID) && (!live ||
		    !host_addr_reserved(host, (uint64_t)(inst & NV_CHAN_INST_ADDR_MASK) << 12, NV_INST_SIZE))) {
			snprintf(why, len, "physical channel %u bound (inst 0x%08x) without a live owner "
				 "or outside the reserved area", ch, inst);
			ret = -1;
		}
	}
	pthread_mutex_unlock(&host->lock);
	return ret;
}

/* The oracle: gpusim saw every access the GPU made, whatever we believe. */
static int host_check_audit(struct gpuvm_host *host, char *why, size_t len)
{
	struct gpusim *sim = gpusim_from_hw(host->hw);
	uint64_t n;

	if (!sim || gpusim_audit_get_mode(sim) == GPUSIM_AUDIT_OFF)
		return 0;
	n = gpusim_audit_total(sim);
	if (!n)
		return 0;
	snprintf(why, len, "gpusim audit: %llu GPU accesses outside their VM's memory",
		 (unsigned long long)n);
	return -1;
}

int host_check_isolation(struct gpuvm_host *host, char *why, size_t len)
{
	struct vgpu *list[HOST_MAX_VGPUS];
	unsigned n = 0;

	if (host_check_channels(host, why, len) || host_check_audit(host, why, len))
		return -1;
	pthread_mutex_lock(&host->lock);
	for (unsigned i = 0; i < HOST_MAX_VGPUS; i++)
		if (host->vgpus[i])
			list[n++] = host->vgpus[i];
	pthread_mutex_unlock(&host->lock);
	/* The control thread is the only one that destroys vGPUs: list stays valid. */
	for (unsigned i = 0; i < n; i++)
		if (vgpu_check_isolation(list[i], why, len))
			return -1;
	return 0;
}

int host_set_sched(struct gpuvm_host *host, const char *policy, char *err, size_t errlen)
{
	const struct sched_policy *p = sched_policy_find(policy);

	if (!p) {
		snprintf(err, errlen, "unknown scheduling policy '%s' (direct, fifo, credit, band)", policy);
		return -EINVAL;
	}
	if (sched_set_policy(host->sched, p)) {
		snprintf(err, errlen, "policy '%s' failed to start", policy);
		return -ENOMEM;
	}
	return 0;
}

const char *host_sched_name(struct gpuvm_host *host)
{
	return sched_policy_name(host->sched);
}

int host_set_sched_params(struct gpuvm_host *host, const struct sched_params *p)
{
	return sched_set_params(host->sched, p);
}

void host_get_sched_params(struct gpuvm_host *host, struct sched_params *p)
{
	sched_get_params(host->sched, p);
}

void host_sched_stats(struct gpuvm_host *host, struct sched_stats *out)
{
	sched_get_stats(host->sched, out);
}
