// Caller: who is making a request, as decided by identity::Authenticator. Renku's caller classes:
// anonymous, authenticated user, admin (see the reference, section 2.1).
#pragma once

#include <string>

namespace keybridge::core {

struct Caller {
  std::string user_id;  // empty for anonymous callers
  bool is_admin = false;
  std::string email;
  std::string name;
  // Why a presented credential was not accepted ("expired", "unknown key"...), for the 401 message;
  // never contains the credential itself.
  std::string rejected_reason;

  bool IsAuthenticated() const { return !user_id.empty(); }
  static Caller Anonymous() { return Caller{}; }
};

}  // namespace keybridge::core
