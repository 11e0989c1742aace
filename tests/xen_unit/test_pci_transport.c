/*
 * The guest library's pci:SBDF transport (guest/lib/transport_pci.c)
 * against a fake sysfs tree: regular files of the BARs' sizes stand in for
 * resource0/1/3, found through $GPUVM_PCI_SYSFS_ROOT.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuvm_guest.h"
#include "gpuvm_transport.h"

static char root[256];
static char dev_dir[300];

static void put_file(const char *name, const char *text, off_t size)
{
	char path[400];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dev_dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	if (text)
		assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	if (size)
		assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static void rm_file(const char *name)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", dev_dir, name);
	unlink(path);
}

static void file_pread(const char *name, uint64_t off, void *buf, size_t len)
{
	char path[400];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dev_dir, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void file_pwrite(const char *name, uint64_t off, const void *buf, size_t len)
{
	char path[400];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dev_dir, name);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/gpuvm-fake-sysfs-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(dev_dir, sizeof(dev_dir), "%s/0000:00:03.0", root);
	if (mkdir(dev_dir, 0700))
		return -1;
	put_file("vendor", "0x10de\n", 0);
	put_file("device", "0x06d8\n", 0);
	put_file("enable", "0\n", 0);
	put_file("resource0", NULL, 16 << 20);
	put_file("resource1", NULL, 256 << 20);
	put_file("resource3", NULL, 16 << 20);
	setenv("GPUVM_PCI_SYSFS_ROOT", root, 1);
	return 0;
}

static int teardown(void **state)
{
	const char *names[] = { "vendor", "device", "enable", "resource0", "resource1", "resource3" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		rm_file(names[i]);
	rmdir(dev_dir);
	rmdir(root);
	unsetenv("GPUVM_PCI_SYSFS_ROOT");
	return 0;
}

static void test_open_and_registers(void **state)
{
	struct gpuvm_transport *t = NULL;
	uint32_t v;
	char en[4] = "";

	(void)state;
	assert_int_equal(gpuvm_transport_open("pci:00:03.0", &t), GPUVM_OK);
	assert_non_null(t);
	assert_string_equal(t->kind, "pci");
	assert_string_equal(t->id, "pci:0000:00:03.0");
	file_pread("enable", 0, en, 1);
	assert_int_equal(en[0], '1');
	assert_int_equal(t->ops->bar_size(t, GPUVM_BAR0), 16 << 20);
	assert_int_equal(t->ops->bar_size(t, GPUVM_BAR1), 256 << 20);
	assert_int_equal(t->ops->bar_size(t, GPUVM_BAR3), 16 << 20);
	assert_int_equal(t->ops->bar_size(t, (enum gpuvm_bar)2), 0);
	assert_null(t->ops->bar_map);

	/* Registers go through the BAR0 mapping (the file, here). */
	gpuvm_tp_wr32(t, 0x1700, 0xcafe0001);
	file_pread("resource0", 0x1700, &v, 4);
	assert_int_equal(v, 0xcafe0001);
	v = 0x0c0c0c0c;
	file_pwrite("resource0", 0x0, &v, 4);
	assert_int_equal(gpuvm_tp_rd32(t, 0x0), 0x0c0c0c0c);
	assert_int_equal(t->ops->check(t), 0);
	/* Misaligned or beyond the BAR: all ones, writes dropped. */
	assert_int_equal(gpuvm_tp_rd32(t, 0x1702), 0xffffffff);
	assert_int_equal(gpuvm_tp_rd32(t, 16 << 20), 0xffffffff);
	gpuvm_tp_wr32(t, (16 << 20) - 2, 1);
	gpuvm_transport_close(t);
}

static void test_bar_data(void **state)
{
	struct gpuvm_transport *t;
	uint8_t buf[64], back[64];

	(void)state;
	assert_int_equal(gpuvm_transport_open("pci:0000:00:03.0", &t), GPUVM_OK);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	/* Odd offsets and lengths: split into aligned pieces, all bytes land. */
	assert_int_equal(t->ops->bar_write(t, GPUVM_BAR1, 0x1001, buf, 37), 0);
	file_pread("resource1", 0x1001, back, 37);
	assert_memory_equal(buf, back, 37);
	memset(back, 0, sizeof(back));
	assert_int_equal(t->ops->bar_read(t, GPUVM_BAR1, 0x1001, back, 37), 0);
	assert_memory_equal(buf, back, 37);
	assert_int_equal(t->ops->bar_write(t, GPUVM_BAR3, (16 << 20) - 64, buf, 64), 0);
	file_pread("resource3", (16 << 20) - 64, back, 64);
	assert_memory_equal(buf, back, 64);
	/* Ranges outside the BAR, and BAR0/BAR2 as data BARs. */
	assert_int_equal(t->ops->bar_read(t, GPUVM_BAR3, (16 << 20) - 63, back, 64), -EINVAL);
	assert_int_equal(t->ops->bar_write(t, GPUVM_BAR1, 256ull << 20, buf, 1), -EINVAL);
	assert_int_equal(t->ops->bar_read(t, GPUVM_BAR1, ~0ull - 2, back, 8), -EINVAL);
	assert_int_equal(t->ops->bar_read(t, GPUVM_BAR0, 0, back, 4), -EINVAL);
	assert_int_equal(t->ops->bar_read(t, (enum gpuvm_bar)2, 0, back, 4), -EINVAL);
	assert_int_equal(t->ops->bar_read(t, GPUVM_BAR1, 0, back, 0), 0);
	gpuvm_transport_close(t);
}

static void test_absent_and_bad(void **state)
{
	struct gpuvm_transport *t = NULL;

	(void)state;
	/* No such device. */
	assert_int_equal(gpuvm_transport_open("pci:00:04.0", &t), GPUVM_ERR_NO_DEVICE);
	assert_null(t);
	assert_non_null(strstr(gpuvm_last_error(), "0000:00:04.0"));
	assert_non_null(strstr(gpuvm_last_error(), "gpuvmctl attach"));
	/* Malformed addresses. */
	const char *bad[] = { "pci:3", "pci:00:03", "pci:00:20.0", "pci:00:03.8", "pci:0:00:03.0",
			      "pci:00:03.0/../..", "pci:zz:03.0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gpuvm_transport_open(bad[i], &t), GPUVM_ERR_INVALID);
	assert_int_equal(gpuvm_transport_open("pci:", &t), GPUVM_ERR_INVALID);
	/* Not an NVIDIA device. */
	put_file("vendor", "0x8086\n", 0);
	assert_int_equal(gpuvm_transport_open("pci:00:03.0", &t), GPUVM_ERR_NO_DEVICE);
	assert_non_null(strstr(gpuvm_last_error(), "not an NVIDIA"));
	put_file("vendor", "0x10DE\n", 0);
	/* A BAR missing. */
	rm_file("resource3");
	assert_int_equal(gpuvm_transport_open("pci:00:03.0", &t), GPUVM_ERR_NO_DEVICE);
	assert_non_null(strstr(gpuvm_last_error(), "BAR3"));
	/* A BAR of no usable size. */
	put_file("resource3", NULL, 0);
	assert_int_equal(gpuvm_transport_open("pci:00:03.0", &t), GPUVM_ERR_DEVICE);
	put_file("resource3", NULL, 16 << 20);
	/* Cannot enable. */
	rm_file("enable");
	assert_int_equal(gpuvm_transport_open("pci:00:03.0", &t), GPUVM_ERR_NO_DEVICE);
	assert_non_null(strstr(gpuvm_last_error(), "enable"));
	put_file("enable", "0\n", 0);
	/* Upper-case hex is accepted. */
	assert_int_equal(gpuvm_transport_open("pci:0000:00:03.0", &t), GPUVM_OK);
	/* A device that reads all ones (gone) is reported by check(). */
	uint32_t ones = 0xffffffff;
	file_pwrite("resource0", 0, &ones, 4);
	assert_int_equal(t->ops->check(t), -ENODEV);
	gpuvm_transport_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_and_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_and_bad, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
