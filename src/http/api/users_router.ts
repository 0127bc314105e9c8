import type { Router } from 'express';
import { createUser, getUser, listUsers, updateUser, type CreateUserInput, type UpdateUserInput } from '../../app/users.js';
import type { AppDeps } from '../../app/use_case.js';
import { makeResourceRouter } from './resource_router.js';

export const makeUsersRouter = (deps: AppDeps): Router =>
  makeResourceRouter({
    list: (actor, req, paging) => listUsers(deps, actor, req.query, paging),
    create: (actor, body) => createUser(deps, actor, body as CreateUserInput),
    get: (actor, id) => getUser(deps, actor, id),
    update: (actor, input) => updateUser(deps, actor, input as UpdateUserInput),
  });
