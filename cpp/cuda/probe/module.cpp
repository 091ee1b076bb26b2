int probe_run();
extern "C" int vidx_cuda_probe_entry() { return probe_run(); }
