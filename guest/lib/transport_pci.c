/*
 * The "pci:SBDF" transport: a vGPU seen as a PCI device inside a Xen domU
 * (the Xen backend, docs/xen-backend.md).  It uses Linux sysfs only:
 * SYSFS/SBDF/enable turns the device on, SYSFS/SBDF/resource0, resource1
 * and resource3 are mmap'ed and every register or BAR access goes through
 * those mappings (each access traps to gpuvmd's ioreq server).  SYSFS is
 * /sys/bus/pci/devices, or $GPUVM_PCI_SYSFS_ROOT so tests can fake the tree
 * with regular files of the BARs' sizes.
 *
 * BAR data moves in naturally aligned accesses of at most 8 bytes (never
 * wider vector copies), since each one becomes one ioreq of a size Xen and
 * the vGPU accept; there is no bar_map for the same reason.  Each ioreq is
 * a round trip to dom0, so the widest allowed access halves a copy's cost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvc0_driver.h"

#define PCI_SYSFS_DEFAULT   "/sys/bus/pci/devices"
#define PCI_SYSFS_ENV       "GPUVM_PCI_SYSFS_ROOT"
#define PCI_VENDOR_NVIDIA   0x10de

struct pci_bar_map {
	volatile uint8_t *p;
	uint64_t size;
};

struct pci_transport {
	struct gpuvm_transport tp;
	struct pci_bar_map bar[4];      /* 0, 1 and 3 used */
};

static struct pci_transport *pci_of(struct gpuvm_transport *t)
{
	return (struct pci_transport *)t;
}

static bool pci_in_bar(const struct pci_bar_map *b, uint64_t off, uint64_t len)
{
	return b->p && off <= b->size && len <= b->size - off;
}

static uint32_t pci_rd32(struct gpuvm_transport *t, uint32_t reg)
{
	struct pci_bar_map *b = &pci_of(t)->bar[0];

	if ((reg & 3) || !pci_in_bar(b, reg, 4))
		return 0xffffffffu;
	return *(volatile uint32_t *)(b->p + reg);
}

static void pci_wr32(struct gpuvm_transport *t, uint32_t reg, uint32_t val)
{
	struct pci_bar_map *b = &pci_of(t)->bar[0];

	if ((reg & 3) || !pci_in_bar(b, reg, 4))
		return;
	*(volatile uint32_t *)(b->p + reg) = val;
}

static struct pci_bar_map *pci_data_bar(struct gpuvm_transport *t, enum gpuvm_bar bar,
					uint64_t off, size_t len)
{
	struct pci_bar_map *b;

	if (bar != GPUVM_BAR1 && bar != GPUVM_BAR3)
		return NULL;
	b = &pci_of(t)->bar[bar];
	return pci_in_bar(b, off, len) ? b : NULL;
}

/* One piece of a copy: the widest naturally aligned access (1, 2, 4 or 8) that fits. */
static size_t pci_chunk(uint64_t off, size_t left)
{
	if (!(off & 7) && left >= 8)
		return 8;
	if (!(off & 3) && left >= 4)
		return 4;
	if (!(off & 1) && left >= 2)
		return 2;
	return 1;
}

static int pci_bar_read(struct gpuvm_transport *t, enum gpuvm_bar bar, uint64_t off,
			void *buf, size_t len)
{
	struct pci_bar_map *b = pci_data_bar(t, bar, off, len);
	uint8_t *dst = buf;

	if (!b)
		return -EINVAL;
	while (len) {
		size_t n = pci_chunk(off, len);
		volatile uint8_t *src = b->p + off;

		if (n == 8) {
			uint64_t v = *(volatile uint64_t *)src;
			memcpy(dst, &v, 8);
		} else if (n == 4) {
			uint32_t v = *(volatile uint32_t *)src;
			memcpy(dst, &v, 4);
		} else if (n == 2) {
			uint16_t v = *(volatile uint16_t *)src;
			memcpy(dst, &v, 2);
		} else {
			*dst = *src;
		}
		dst += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int pci_bar_write(struct gpuvm_transport *t, enum gpuvm_bar bar, uint64_t off,
			 const void *buf, size_t len)
{
	struct pci_bar_map *b = pci_data_bar(t, bar, off, len);
	const uint8_t *src = buf;

	if (!b)
		return -EINVAL;
	while (len) {
		size_t n = pci_chunk(off, len);
		volatile uint8_t *dst = b->p + off;

		if (n == 8) {
			uint64_t v;
			memcpy(&v, src, 8);
			*(volatile uint64_t *)dst = v;
		} else if (n == 4) {
			uint32_t v;
			memcpy(&v, src, 4);
			*(volatile uint32_t *)dst = v;
		} else if (n == 2) {
			uint16_t v;
			memcpy(&v, src, 2);
			*(volatile uint16_t *)dst = v;
		} else {
			*dst = *src;
		}
		src += n;
		off += n;
		len -= n;
	}
	return 0;
}

static uint64_t pci_bar_size(struct gpuvm_transport *t, enum gpuvm_bar bar)
{
	return (unsigned)bar < 4 && bar != 2 ? pci_of(t)->bar[bar].size : 0;
}

static int pci_check(struct gpuvm_transport *t)
{
	/* A device that went away (detached vGPU) reads all ones, like a removed card. */
	return pci_rd32(t, 0) == 0xffffffffu ? -ENODEV : 0;
}

static void pci_unmap_all(struct pci_transport *p)
{
	for (unsigned i = 0; i < 4; i++)
		if (p->bar[i].p)
			munmap((void *)p->bar[i].p, p->bar[i].size);
}

static void pci_close(struct gpuvm_transport *t)
{
	struct pci_transport *p = pci_of(t);

	pci_unmap_all(p);
	free(p);
}

static const struct gpuvm_transport_ops pci_ops = {
	.rd32 = pci_rd32,
	.wr32 = pci_wr32,
	.bar_read = pci_bar_read,
	.bar_write = pci_bar_write,
	.bar_size = pci_bar_size,
	.check = pci_check,
	.close = pci_close,
};

/* "0000:00:03.0" or "00:03.0" -> "0000:00:03.0" (lower case).  0 or -1. */
static int pci_canon_sbdf(const char *in, char out[13])
{
	size_t len = strlen(in);
	const char *fmt = len == 12 ? "hhhh:hh:hh.h" : "hh:hh.h";
	size_t k = 0;

	if (len != 12 && len != 7)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (fmt[i] == 'h' ? !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
				      (c >= 'A' && c <= 'F')) : c != fmt[i])
			return -1;
	}
	if (len == 7) {
		memcpy(out, "0000:", 5);
		k = 5;
	}
	for (size_t i = 0; i < len; i++)
		out[k + i] = (char)(in[i] >= 'A' && in[i] <= 'F' ? in[i] - 'A' + 'a' : in[i]);
	out[12] = '\0';
	/* device 0..1f, function 0..7 */
	if (out[8] > '1' || out[11] > '7')
		return -1;
	return 0;
}

static int pci_read_hex_file(const char *path, unsigned long *val)
{
	char buf[32] = "";
	FILE *f = fopen(path, "r");
	char *end;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	errno = 0;
	*val = strtoul(buf, &end, 0);
	return errno || end == buf ? -EINVAL : 0;
}

static int pci_enable(const char *dir, const char *spec)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/enable", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return gpuvm_fail(GPUVM_ERR_NO_DEVICE, "device '%s': cannot enable it (%s: %s)%s",
				  spec, path, strerror(errno),
				  errno == EACCES ? "; run as root" : "");
	if (write(fd, "1", 1) != 1) {
		int e = errno;

		close(fd);
		return gpuvm_fail(GPUVM_ERR_NO_DEVICE, "device '%s': enabling failed (%s: %s)",
				  spec, path, strerror(e));
	}
	close(fd);
	return GPUVM_OK;
}

static int pci_map_bar(struct pci_transport *p, const char *dir, unsigned n, const char *spec)
{
	char path[4200];
	struct stat st;
	void *m;
	int fd;

	snprintf(path, sizeof(path), "%s/resource%u", dir, n);
	fd = open(path, O_RDWR | O_CLOEXEC | O_SYNC);
	if (fd < 0)
		return gpuvm_fail(GPUVM_ERR_NO_DEVICE, "device '%s': cannot open BAR%u (%s: %s)",
				  spec, n, path, strerror(errno));
	if (fstat(fd, &st) || st.st_size <= 0 || (st.st_size & 0xfff)) {
		close(fd);
		return gpuvm_fail(GPUVM_ERR_DEVICE, "device '%s': BAR%u (%s) has no usable size",
				  spec, n, path);
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return gpuvm_fail(GPUVM_ERR_NO_DEVICE, "device '%s': cannot map BAR%u (%s: %s)",
				  spec, n, path, strerror(errno));
	p->bar[n].p = m;
	p->bar[n].size = (uint64_t)st.st_size;
	return GPUVM_OK;
}

int gpuvm_transport_open_pci(const char *opts, struct gpuvm_transport **out)
{
	const char *root = getenv(PCI_SYSFS_ENV);
	char sbdf[13], dir[4096], path[4200];
	struct pci_transport *p;
	unsigned long vendor = 0;
	struct stat st;
	int err;

	if (!root || !*root)
		root = PCI_SYSFS_DEFAULT;
	if (pci_canon_sbdf(opts, sbdf))
		return gpuvm_fail(GPUVM_ERR_INVALID,
				  "device 'pci:%s': expected pci:DDDD:BB:DD.F or pci:BB:DD.F", opts);
	if (snprintf(dir, sizeof(dir), "%s/%s", root, sbdf) >= (int)sizeof(dir))
		return gpuvm_fail(GPUVM_ERR_INVALID, "device 'pci:%s': sysfs path too long", opts);
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return gpuvm_fail(GPUVM_ERR_NO_DEVICE,
				  "device 'pci:%s': no PCI device %s (%s missing): is a vGPU attached "
				  "to this domain (gpuvmctl attach in dom0) at that address?",
				  opts, sbdf, dir);
	snprintf(path, sizeof(path), "%s/vendor", dir);
	if (pci_read_hex_file(path, &vendor) == 0 && vendor != PCI_VENDOR_NVIDIA)
		return gpuvm_fail(GPUVM_ERR_NO_DEVICE,
				  "device 'pci:%s': %s is not an NVIDIA device (vendor 0x%04lx)",
				  opts, sbdf, vendor);
	err = pci_enable(dir, opts);
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "device 'pci:%s': out of memory", opts);
	for (unsigned n = 0; n < 4; n++) {
		if (n == 2)
			continue;
		err = pci_map_bar(p, dir, n, opts);
		if (err) {
			pci_unmap_all(p);
			free(p);
			return err;
		}
	}
	p->tp.ops = &pci_ops;
	p->tp.kind = "pci";
	snprintf(p->tp.id, sizeof(p->tp.id), "pci:%s", sbdf);
	*out = &p->tp;
	return GPUVM_OK;
}
