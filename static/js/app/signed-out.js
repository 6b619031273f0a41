// The login page: nobody is logged in on this browser, so the field app forgets whoever used
// the phone before (the site's own logout button leads here): no current user, no village list
// with its household heads. A logout made offline is completed on the server first.
import { finishPendingLogout, forgetUsers } from "./session.js";

async function signedOut() {
  await finishPendingLogout();
  await forgetUsers();
  document.body.dataset.signedOut = "true";
}

signedOut();
