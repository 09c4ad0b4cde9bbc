// The role of the session's key, as GET /v1/me tells it. Controls that need
// a higher role are not rendered at all, rather than rendered disabled.
const ROLES = ['viewer', 'agent', 'admin'];
let current = null;
let self = '';

export const setRole = (r) => { current = r; };
export const role = () => current;
// The agent the session's key works the queue as (GET /v1/me's agent):
// claims and completions are recorded under it, whatever a form says.
export const setAgent = (a) => { self = a || ''; };
export const agentName = () => self;
// can tells whether the session's role includes r.
export const can = (r) => current !== null && ROLES.indexOf(current) >= ROLES.indexOf(r);

// needs is the role each control needs, as the API's routes require it.
export const needs = {
  claim: 'agent', // POST /v1/actions/claim
  complete: 'agent', // POST /v1/actions/{id}/complete
  cancel: 'agent', // POST /v1/actions/{id}/cancel
  manualAction: 'admin', // POST /v1/customers/{id}/actions
};
