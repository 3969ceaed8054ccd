/*
 * wsreader.c — the reading side of bench/wsbench.py: opens N WebSocket
 * connections (just enough RFC 6455: handshake, unmasked server frames),
 * reads them all with epoll, counts "message.created" frames on every
 * socket and, on the first SAMPLE sockets, parses each one to measure
 * latency from the send time carried in the content ("bench K T") and
 * from the message's created_at. A Python reader could not take 100k
 * frames/s on this machine; this one costs little CPU.
 *
 * Usage: wsreader HOST PORT N TOKENS_FILE SAMPLE
 * Prints "READY" once connected; runs until stdin closes (or "R\n" resets
 * the counters), then prints one line:
 *   RESULT count=<frames> lat=<n>,<p50>,<p99>,<max> latc=<n>,<p50>,<p99>,<max>
 * (milliseconds). Built by wsbench.py: cc -O2 -o build/bench/wsreader bench/wsreader.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct conn {
	int fd;
	int sample;
	unsigned char *buf;
	size_t len, cap;
};

struct vec {
	double *v;
	size_t n, cap;
};

static struct vec lat, latc;  /* ms: from the send time, from created_at */
static long long count;

static double now_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static void add(struct vec *a, double v)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 65536;
		a->v = realloc(a->v, a->cap * sizeof(double));
		if (!a->v)
			exit(2);
	}
	a->v[a->n++] = v;
}

static int open_ws(const char *host, int port, const char *token)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	char req[8192], resp[4096];
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	size_t got = 0;

	inet_pton(AF_INET, host, &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	snprintf(req, sizeof(req),
		 "GET /ws?token=%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\n\r\n", token, host, port);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		return -1;
	/* Read the response headers byte by byte: nothing after them is lost. */
	while (got < sizeof(resp) - 1) {
		if (read(fd, resp + got, 1) != 1)
			return -1;
		got++;
		if (got >= 4 && !memcmp(resp + got - 4, "\r\n\r\n", 4))
			break;
	}
	resp[got] = 0;
	if (!strstr(resp, " 101 ")) {
		fprintf(stderr, "upgrade refused: %.80s\n", resp);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* One text frame of a sample socket. */
static void sample_frame(const char *p, size_t n, double t)
{
	const char *c, *ca;
	char tmp[64];

	if (!memmem(p, n, "\"message.created\"", 17))
		return;
	count++;
	c = memmem(p, n, "\"content\":\"bench ", 17);
	if (c) {
		const char *sp = memchr(c + 17, ' ', (size_t)(p + n - (c + 17)));
		if (sp)
			add(&lat, (t - strtod(sp + 1, NULL)) * 1000);
	}
	ca = memmem(p, n, "\"created_at\":\"", 14);
	if (ca && (size_t)(p + n - ca) > 14 + 24) {
		struct tm tm = { 0 };
		memcpy(tmp, ca + 14, 24);
		tmp[24] = 0;
		if (strptime(tmp, "%Y-%m-%dT%H:%M:%S", &tm))
			add(&latc, (t - (timegm(&tm) + atoi(tmp + 20) / 1000.0)) * 1000);
	}
}

static void on_data(struct conn *c, const unsigned char *d, size_t n, double t)
{
	size_t off = 0;

	if (!c->sample) {
		const unsigned char *p = d, *end = d + n, *q;
		while ((q = memmem(p, (size_t)(end - p), "\"message.created\"", 17))) {
			count++;
			p = q + 17;
		}
		return;
	}
	if (c->len + n > c->cap) {
		c->cap = (c->len + n) * 2;
		c->buf = realloc(c->buf, c->cap);
		if (!c->buf)
			exit(2);
	}
	memcpy(c->buf + c->len, d, n);
	c->len += n;
	for (;;) {
		unsigned char *b = c->buf + off;
		size_t avail = c->len - off, hl = 2, pl;
		if (avail < 2)
			break;
		pl = b[1] & 0x7f;
		if (pl == 126) {
			if (avail < 4)
				break;
			pl = (size_t)b[2] << 8 | b[3];
			hl = 4;
		} else if (pl == 127) {
			if (avail < 10)
				break;
			pl = 0;
			for (int i = 2; i < 10; i++)
				pl = pl << 8 | b[i];
			hl = 10;
		}
		if (avail < hl + pl)
			break;
		if ((b[0] & 0x0f) == 1)
			sample_frame((const char *)b + hl, pl, t);
		else if ((b[0] & 0x0f) == 9 && pl <= 125) {
			/* A pong echoes the ping's payload (RFC 6455 5.5.3),
			 * masked as every client frame. */
			unsigned char pong[6 + 125] = { 0x8a, 0x80 | (unsigned char)pl, 1, 2, 3, 4 };
			for (size_t i = 0; i < pl; i++)
				pong[6 + i] = b[hl + i] ^ pong[2 + i % 4];
			if (write(c->fd, pong, 6 + pl) < 0)
				perror("pong");
		}
		off += hl + pl;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void summary(const char *name, struct vec *a)
{
	double *v = a->v;
	size_t n = a->n;

	if (!n) {
		printf(" %s=0,nan,nan,nan", name);
		return;
	}
	qsort(v, n, sizeof(*v), cmp);
	printf(" %s=%zu,%.3f,%.3f,%.3f", name, n, v[(size_t)(0.5 * (n - 1))],
	       v[(size_t)(0.99 * (n - 1))], v[n - 1]);
}

int main(int argc, char **argv)
{
	int n, sample, port, ep;
	struct conn *conns;
	char line[4096];
	FILE *tf;
	struct epoll_event ev, evs[256];
	static unsigned char rbuf[1 << 16];

	if (argc != 6)
		return fprintf(stderr, "usage: wsreader HOST PORT N TOKENS_FILE SAMPLE\n"), 2;
	port = atoi(argv[2]);
	n = atoi(argv[3]);
	sample = atoi(argv[5]);
	tf = fopen(argv[4], "r");
	if (!tf)
		return perror(argv[4]), 2;
	conns = calloc((size_t)n, sizeof(*conns));
	ep = epoll_create1(0);
	for (int i = 0; i < n; i++) {
		if (!fgets(line, sizeof(line), tf)) {
			rewind(tf);
			if (!fgets(line, sizeof(line), tf))
				return 2;
		}
		line[strcspn(line, "\r\n")] = 0;
		conns[i].fd = open_ws(argv[1], port, line);
		if (conns[i].fd < 0)
			return fprintf(stderr, "socket %d: cannot connect (%s)\n", i, strerror(errno)), 1;
		conns[i].sample = i < sample;
		ev.events = EPOLLIN;
		ev.data.ptr = &conns[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
	}
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		int k = epoll_wait(ep, evs, 256, -1);
		double t = now_s();
		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r;
			if (!c) {  /* stdin: "R" resets, EOF ends */
				r = read(0, line, sizeof(line));
				if (r <= 0)
					goto done;
				count = 0;
				lat.n = latc.n = 0;
				continue;
			}
			while ((r = read(c->fd, rbuf, sizeof(rbuf))) > 0)
				on_data(c, rbuf, (size_t)r, t);
			if (r == 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				fprintf(stderr, "a socket was closed by the server\n");
			}
		}
	}
done:
	printf("RESULT count=%lld", count);
	summary("lat", &lat);
	summary("latc", &latc);
	printf("\n");
	return 0;
}
