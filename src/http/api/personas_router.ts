import type { Router } from 'express';
import { createPersona, getPersona, listPersonas, updatePersona, type CreatePersonaInput, type PersonaDeps, type UpdatePersonaInput } from '../../app/personas.js';
import type { AppDeps } from '../../app/use_case.js';
import { includeArchived, makeResourceRouter } from './resource_router.js';

export const makePersonasRouter = (deps: AppDeps & PersonaDeps): Router =>
  makeResourceRouter({
    list: (actor, req, paging) => listPersonas(deps, actor, includeArchived(req), paging),
    create: (actor, body) => createPersona(deps, actor, body as CreatePersonaInput),
    get: (actor, id) => getPersona(deps, actor, id),
    update: (actor, input) => updatePersona(deps, actor, input as UpdatePersonaInput),
  });
