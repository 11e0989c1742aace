/*
 * A minimal control thread for the local backend (local_loop.h).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "local_loop.h"

#define LOOP_MAX_FDS 256

struct loop_watch {
	int fd;
	struct local_listener *l;
	unsigned gen;           /* changes whenever the slot is reused */
};

struct local_loop {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	int wake_fd;
	bool stop;
	struct loop_watch w[LOOP_MAX_FDS];
	unsigned nw;
	unsigned gen;
	/* one pending call at a time (callers serialise on call_lock) */
	pthread_mutex_t call_lock;
	void (*call_fn)(void *arg);
	void *call_arg;
	bool call_done;
};

static void loop_wake(struct local_loop *lp)
{
	uint64_t one = 1;

	if (write(lp->wake_fd, &one, sizeof(one)) < 0) {
		/* saturated: already awake */
	}
}

static int loop_find(struct local_loop *lp, int fd)
{
	for (unsigned i = 0; i < lp->nw; i++)
		if (lp->w[i].fd == fd)
			return (int)i;
	return -1;
}

int local_loop_watch(struct local_loop *lp, int fd, struct local_listener *l)
{
	int ret = 0;

	pthread_mutex_lock(&lp->lock);
	if (loop_find(lp, fd) >= 0 || lp->nw == LOOP_MAX_FDS) {
		ret = -EEXIST;
	} else {
		lp->w[lp->nw].fd = fd;
		lp->w[lp->nw].l = l;
		lp->w[lp->nw].gen = ++lp->gen;
		lp->nw++;
	}
	pthread_mutex_unlock(&lp->lock);
	loop_wake(lp);
	return ret;
}

void local_loop_unwatch(struct local_loop *lp, int fd)
{
	int i;

	pthread_mutex_lock(&lp->lock);
	i = loop_find(lp, fd);
	if (i >= 0)
		lp->w[i] = lp->w[--lp->nw];
	pthread_mutex_unlock(&lp->lock);
	loop_wake(lp);
}

static void *loop_main(void *arg)
{
	struct local_loop *lp = arg;
	struct pollfd pfd[LOOP_MAX_FDS + 1];
	struct loop_watch snap[LOOP_MAX_FDS];

	for (;;) {
		unsigned n;
		uint64_t drain;

		pthread_mutex_lock(&lp->lock);
		if (lp->stop) {
			pthread_mutex_unlock(&lp->lock);
			break;
		}
		if (lp->call_fn) {
			void (*fn)(void *) = lp->call_fn;
			void *fa = lp->call_arg;

			pthread_mutex_unlock(&lp->lock);
			fn(fa);
			pthread_mutex_lock(&lp->lock);
			lp->call_fn = NULL;
			lp->call_done = true;
			pthread_cond_broadcast(&lp->done_cond);
			pthread_mutex_unlock(&lp->lock);
			continue;
		}
		n = lp->nw;
		memcpy(snap, lp->w, n * sizeof(snap[0]));
		pthread_mutex_unlock(&lp->lock);

		pfd[0].fd = lp->wake_fd;
		pfd[0].events = POLLIN;
		for (unsigned i = 0; i < n; i++) {
			pfd[i + 1].fd = snap[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, n + 1, -1) < 0)
			continue;
		if (pfd[0].revents & POLLIN)
			while (read(lp->wake_fd, &drain, sizeof(drain)) == (ssize_t)sizeof(drain))
				;
		for (unsigned i = 0; i < n; i++) {
			int k;
			bool live;

			if (!pfd[i + 1].revents)
				continue;
			/* Still watched, by the same registration? */
			pthread_mutex_lock(&lp->lock);
			k = loop_find(lp, snap[i].fd);
			live = k >= 0 && lp->w[k].gen == snap[i].gen;
			pthread_mutex_unlock(&lp->lock);
			if (live)
				local_listener_fd_ready(snap[i].l, snap[i].fd, pfd[i + 1].revents);
		}
	}
	return NULL;
}

int local_loop_start(struct local_loop **out)
{
	struct local_loop *lp = calloc(1, sizeof(*lp));
	int err;

	*out = NULL;
	if (!lp)
		return -ENOMEM;
	pthread_mutex_init(&lp->lock, NULL);
	pthread_mutex_init(&lp->call_lock, NULL);
	pthread_cond_init(&lp->done_cond, NULL);
	lp->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (lp->wake_fd < 0) {
		err = -errno;
		free(lp);
		return err;
	}
	err = -pthread_create(&lp->thread, NULL, loop_main, lp);
	if (err) {
		close(lp->wake_fd);
		free(lp);
		return err;
	}
	*out = lp;
	return 0;
}

void local_loop_call(struct local_loop *lp, void (*fn)(void *arg), void *arg)
{
	if (local_loop_on_thread(lp)) {
		fn(arg);
		return;
	}
	pthread_mutex_lock(&lp->call_lock);
	pthread_mutex_lock(&lp->lock);
	lp->call_fn = fn;
	lp->call_arg = arg;
	lp->call_done = false;
	pthread_mutex_unlock(&lp->lock);
	loop_wake(lp);
	pthread_mutex_lock(&lp->lock);
	while (!lp->call_done)
		pthread_cond_wait(&lp->done_cond, &lp->lock);
	pthread_mutex_unlock(&lp->lock);
	pthread_mutex_unlock(&lp->call_lock);
}

int local_loop_on_thread(struct local_loop *lp)
{
	return pthread_equal(pthread_self(), lp->thread);
}

void local_loop_stop(struct local_loop *lp)
{
	if (!lp)
		return;
	pthread_mutex_lock(&lp->lock);
	lp->stop = true;
	pthread_mutex_unlock(&lp->lock);
	loop_wake(lp);
	pthread_join(lp->thread, NULL);
	close(lp->wake_fd);
	pthread_cond_destroy(&lp->done_cond);
	pthread_mutex_destroy(&lp->call_lock);
	pthread_mutex_destroy(&lp->lock);
	free(lp);
}
