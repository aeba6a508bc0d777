// libFuzzer target; see fuzz_entries.h for what it exercises.
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hubpoll::fuzz::parse_date(data, size);
  return 0;
}
