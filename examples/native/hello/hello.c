/* The smallest greenfork native app: "Hello, World!" for every request.
 * The benchmarks use it as the fastest app gworker can serve:
 *   gworker -b 127.0.0.1:8000 native:build/examples/native/hello/libhello.so
 * An argument replaces the greeting: native:.../libhello.so?Bonjour */
#include <string.h>

#include "greenfork/worker/native_app.h"

static const gf_api* api;
static const char* greeting = "Hello, World!";
static size_t greeting_len = 13;

int gf_app_init(const gf_api* host, const char* args, gf_app_config* config) {
  api = host;
  if (args != NULL && args[0] != '\0') {
    greeting = args; /* gworker keeps the spec alive for the whole process */
    greeting_len = strlen(args);
  }
  config->flags = GF_APP_INLINE; /* no I/O, no locks: safe on the I/O thread */
  return 0;
}

int gf_app_handle(void* ctx, gf_request* request, gf_response* response) {
  (void)ctx;
  (void)request;
  if (api->add_header(response, "Content-Type", 12, "text/plain", 10) != 0) return -1;
  return api->write(response, greeting, greeting_len);
}
