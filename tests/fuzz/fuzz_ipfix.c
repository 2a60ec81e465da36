/* libFuzzer target: one input is one IPFIX datagram's UDP payload (see flow_harness.h). */
#include "flow_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_flow_datagram(cap_ipfix_decode, data, size);
}
