/*
 * noop.c — the floor: a FastCGI responder that does nothing but answer
 * {"ok":true}, behind the same web server configuration as parley's
 * programs. The REST benchmark reports each endpoint against it.
 * `?bytes=N` (at most 1 MiB) pads the answer to N bytes of JSON, so that
 * the cost of moving a large body (a history page) through the web server
 * can be told apart from the cost of producing it.
 */
#include <fcgiapp.h>
#include <stdlib.h>
#include <string.h>

#define PAD_MAX (1 << 20)

int main(void)
{
	static const char head[] = "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n";
	static char pad[PAD_MAX];
	FCGX_Request r;

	memset(pad, 'x', sizeof(pad));
	FCGX_Init();
	FCGX_InitRequest(&r, 0, 0);
	while (FCGX_Accept_r(&r) >= 0) {
		const char *q = FCGX_GetParam("QUERY_STRING", r.envp);
		long n = q && strncmp(q, "bytes=", 6) == 0 ? strtol(q + 6, NULL, 10) : 0;

		FCGX_PutStr(head, (int)strlen(head), r.out);
		if (n > 16 && n <= PAD_MAX) { /* {"pad":"xxx..."} */
			FCGX_PutStr("{\"pad\":\"", 8, r.out);
			FCGX_PutStr(pad, (int)n - 10, r.out);
			FCGX_PutStr("\"}", 2, r.out);
		} else {
			FCGX_PutStr("{\"ok\":true}", 11, r.out);
		}
		FCGX_Finish_r(&r);
	}
	return 0;
}
