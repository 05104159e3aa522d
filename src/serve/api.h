// The JSON API of `dvae serve`, apart from HTTP: one function per endpoint
// (a registry, like the architectures'), each taking the request body and
// answering a status and a body. Every field is validated against ApiLimits
// before any tensor is built; a bad request is a 4xx with a one-line JSON
// error {"error": "..."}, never an exception. Not for sockets, threads or
// assets (serve/http_server.h).
//
// Endpoints (POST bodies are JSON objects; "model" is an index or a name, default 0):
//   GET  models     the page's metadata: models, per-latent KL and order, classes, limits
//   POST decode     {"model", "code": [D] | "codes": [[D],...], "format": "json"|"png"} -> image(s)
//   POST encode     {"model", "test_index" | "pixels"+"width"+"height" | "png": base64, "fit"} -> mu, logvar,
//                   input, reconstruction (and probabilities with a classifier)
//   POST classify   {"model", "code" | an image as for encode} -> probabilities, prediction
//   POST traversal  {"model", "code", "latent", "steps", "range"} -> values and images
// Images in answers are {"width", "height", "pixels": [H*W grey levels 0..255, row-major]}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "serve/explorer.h"

namespace dvae {

/// Bounds on every request.
struct ApiLimits {
  size_t max_body = 1 << 20;      ///< bytes of a request body (default 1 MiB)
  int64_t max_image_side = 1024;  ///< width and height of an uploaded image (default 1024)
  int64_t max_batch = 64;         ///< codes decoded by one request (default 64)
  double max_abs_code = 100.0;    ///< largest |z_d| accepted (default 100; the page's sliders span [-3, 3])
  int64_t max_steps = 64;         ///< images in one traversal (default 64)
  int max_depth = 4;              ///< nesting of JSON arrays and objects (default 4)
};

/// What an endpoint answers.
struct ApiReply {
  int status = 200;                             ///< HTTP status
  std::string content_type = "application/json";  ///< MIME type of body
  std::string body;                             ///< JSON text (one line), or PNG bytes
};

/// One endpoint: its name (the path is /api/NAME), method and handler.
struct ApiEndpoint {
  std::string name;    ///< "decode", ...
  std::string method;  ///< "GET" or "POST"
  ApiReply (*handle)(const Explorer& explorer, const std::string& body, const ApiLimits& limits);
};

/// Every endpoint, in a fixed order.
const std::vector<ApiEndpoint>& api_endpoints();

/// Runs endpoint name on body; an unknown name is a 404. Never throws for bad input.
ApiReply api_call(const Explorer& explorer, const std::string& name, const std::string& body,
                  const ApiLimits& limits = {});

/// A one-line JSON error answer: {"error": message} with status.
ApiReply api_error(int status, const std::string& message);

}  // namespace dvae
