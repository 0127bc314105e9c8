import type { Router } from 'express';
import { createScenario, getScenario, listScenarios, updateScenario, type CreateScenarioInput, type UpdateScenarioInput } from '../../app/scenarios.js';
import type { AppDeps } from '../../app/use_case.js';
import { includeArchived, makeResourceRouter } from './resource_router.js';

export const makeScenariosRouter = (deps: AppDeps): Router =>
  makeResourceRouter({
    list: (actor, req, paging) => listScenarios(deps, actor, includeArchived(req), paging),
    create: (actor, body) => createScenario(deps, actor, body as CreateScenarioInput),
    get: (actor, id) => getScenario(deps, actor, id),
    update: (actor, input) => updateScenario(deps, actor, input as UpdateScenarioInput),
  });
