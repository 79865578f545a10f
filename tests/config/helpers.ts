import { EXAMPLE_CONFIG } from "../../src/config/example.ts";

/** The example with the TLS trio uncommented, as an operator would fill it in. */
export function filledExample(example = EXAMPLE_CONFIG): string {
  return example
    .replace(/^# (client_key|client_crt|root_cas) = /gm, "$1 = ")
    .replace('api_key = "key"', 'api_key = "example-api-key"');
}
