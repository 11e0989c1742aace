/*
 * Interrupts: the hw callback only bumps an eventfd; a daemon thread then
 * reads the physical status, hands each fault, PBDMA error and notify to the
 * vGPU owning the channel, and acknowledges it.  A guest's fault never
 * reaches another guest.
 */
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "host.h"

static void host_irq_callback(void *arg)
{
	struct gpuvm_host *host = arg;
	uint64_t one = 1;

	if (write(host->irq_fd, &one, sizeof(one)) < 0) {
		/* The counter saturating still leaves it readable: nothing lost. */
	}
}

/* The owner of a physical channel and its virtual id; host lock held. */
static struct vgpu *host_chan_owner(struct gpuvm_host *host, unsigned pchid, unsigned *vchid)
{
	if (pchid >= NV_PFIFO_CHANNELS || !host->chan[pchid].owner)
		return NULL;
	*vchid = host->chan[pchid].vchid;
	return host->chan[pchid].owner;
}

static void host_route_faults(struct gpuvm_host *host)
{
	uint32_t units = gpu_rd32(host->hw, NV_PFIFO_FAULT_UNITS);

	for (unsigned u = 0; u < NV_FAULT_UNITS; u++) {
		uint32_t base = NV_PFIFO_FAULT(u), flags;
		uint64_t va;
		struct vgpu *v;
		unsigned vchid;

		if (!(units & (1u << u)))
			continue;
		va = (uint64_t)gpu_rd32(host->hw, base + NV_FAULT_VA_HI) << 32 |
		     gpu_rd32(host->hw, base + NV_FAULT_VA_LO);
		flags = gpu_rd32(host->hw, base + NV_FAULT_FLAGS);
		pthread_mutex_lock(&host->lock);
		v = host_chan_owner(host, NV_FAULT_FLAGS_CHID(flags), &vchid);
		/* BAR faults of the host's own BAR1 have no channel: just ack. */
		if (v && u != NV_FAULT_UNIT_BAR1 && u != NV_FAULT_UNIT_BAR3)
			vgpu_deliver_fault(v, u, vchid, va, flags);
		pthread_mutex_unlock(&host->lock);
		gpu_wr32(host->hw, NV_PFIFO_FAULT_UNITS, 1u << u);
	}
}

static void host_route_pbdma(struct gpuvm_host *host)
{
	uint32_t bits = gpu_rd32(host->hw, NV_PBDMA_INTR);
	uint32_t chid = gpu_rd32(host->hw, NV_PBDMA_ERR_CHID);
	uint32_t info = gpu_rd32(host->hw, NV_PBDMA_ERR_INFO);
	struct vgpu *v;
	unsigned vchid;

	pthread_mutex_lock(&host->lock);
	v = host_chan_owner(host, chid, &vchid);
	if (v && bits)
		vgpu_deliver_pbdma(v, vchid, bits, info);
	pthread_mutex_unlock(&host->lock);
	gpu_wr32(host->hw, NV_PBDMA_INTR, bits);
}

static void host_route_notify(struct gpuvm_host *host)
{
	for (unsigned w = 0; w < 4; w++) {
		uint32_t bits = gpu_rd32(host->hw, NV_PGRAPH_NOTIFY_CHANS(w));

		if (!bits)
			continue;
		pthread_mutex_lock(&host->lock);
		for (unsigned b = 0; b < 32; b++) {
			struct vgpu *v;
			unsigned vchid;

			if (!(bits & (1u << b)))
				continue;
			v = host_chan_owner(host, w * 32 + b, &vchid);
			if (v)
				vgpu_deliver_notify(v, vchid);
		}
		pthread_mutex_unlock(&host->lock);
		gpu_wr32(host->hw, NV_PGRAPH_NOTIFY_CHANS(w), bits);
	}
	gpu_wr32(host->hw, NV_PGRAPH_INTR, NV_PGRAPH_INTR_NOTIFY);
}

void host_irq_service(struct gpuvm_host *host)
{
	uint32_t fifo = gpu_rd32(host->hw, NV_PFIFO_INTR);

	/* Acknowledge first, then drain the records until none is left: a fault
	 * arriving meanwhile raises a fresh edge or is caught by the loop. */
	gpu_wr32(host->hw, NV_PFIFO_INTR, fifo);
	for (int i = 0; i < 64 && gpu_rd32(host->hw, NV_PFIFO_FAULT_UNITS); i++)
		host_route_faults(host);
	if (fifo & NV_PFIFO_INTR_PBDMA)
		host_route_pbdma(host);
	if (gpu_rd32(host->hw, NV_PGRAPH_INTR) & NV_PGRAPH_INTR_NOTIFY)
		host_route_notify(host);
}

static void *host_irq_main(void *arg)
{
	struct gpuvm_host *host = arg;

	for (;;) {
		struct pollfd p = { .fd = host->irq_fd, .events = POLLIN };
		uint64_t n;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		if (read(host->irq_fd, &n, sizeof(n)) != sizeof(n))
			continue;
		if (!__atomic_load_n(&host->irq_running, __ATOMIC_ACQUIRE))
			break;
		host_irq_service(host);
	}
	return NULL;
}

int host_irq_start(struct gpuvm_host *host)
{
	int err;

	host->irq_fd = eventfd(0, EFD_CLOEXEC);
	if (host->irq_fd < 0)
		return -errno;
	__atomic_store_n(&host->irq_running, true, __ATOMIC_RELEASE);
	err = pthread_create(&host->irq_thread, NULL, host_irq_main, host);
	if (err) {
		close(host->irq_fd);
		host->irq_fd = -1;
		host->irq_running = false;
		return -err;
	}
	host->hw->ops->set_irq_handler(host->hw, host_irq_callback, host);
	gpu_wr32(host->hw, NV_PFIFO_INTR_EN, NV_PFIFO_INTR_VM_FAULT | NV_PFIFO_INTR_PBDMA);
	gpu_wr32(host->hw, NV_PGRAPH_INTR_EN, NV_PGRAPH_INTR_NOTIFY);
	gpu_wr32(host->hw, NV_PMC_INTR_EN, NV_PMC_INTR_EN_HW);
	return 0;
}

void host_irq_stop(struct gpuvm_host *host)
{
	uint64_t one = 1;

	if (!host->irq_running)
		return;
	gpu_wr32(host->hw, NV_PMC_INTR_EN, 0);
	host->hw->ops->set_irq_handler(host->hw, NULL, NULL);
	__atomic_store_n(&host->irq_running, false, __ATOMIC_RELEASE);
	if (write(host->irq_fd, &one, sizeof(one)) < 0) {
		/* Cannot fail for a valid eventfd short of overflow. */
	}
	pthread_join(host->irq_thread, NULL);
	close(host->irq_fd);
	host->irq_fd = -1;
}
