/*
 * noop.c — the floor: a FastCGI responder that does nothing but answer
 * {"ok":true}, behind the same web server configuration as parley's
 * programs. The REST benchmark reports each endpoint against it.
 */
#include <fcgiapp.h>
#include <string.h>

int main(void)
{
	static const char resp[] =
		"Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"ok\":true}";
	FCGX_Request r;

	FCGX_Init();
	FCGX_InitRequest(&r, 0, 0);
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutStr(resp, (int)strlen(resp), r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
