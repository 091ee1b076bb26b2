// Path helpers for SPANN's posting file (found where it was built, else beside the index).
#pragma once
#include <string>

namespace vidx::spann {

std::string absolute_path(const std::string& path);
std::string base_name(const std::string& path);
std::string dir_name(const std::string& path);
bool same_file(const std::string& a, const std::string& b);

}  // namespace vidx::spann
